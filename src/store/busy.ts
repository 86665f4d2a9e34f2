import { setTimeout as sleep } from "node:timers/promises";

/** True for SQLite's "another connection holds the lock" errors. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code === "SQLITE_LOCKED");
}

/** Thrown by retryWhileBusy when the caller stopped waiting. */
export class GaveUpWaiting extends Error {
  constructor() {
    super("stopped while waiting for the database");
  }
}

/**
 * Runs a database write, and while another process holds the write lock, tries
 * again with a growing pause that lets the event loop run (open SMTP sessions,
 * HTTP requests). Waits as long as it takes unless `giveUp()` says stop.
 */
export async function retryWhileBusy<T>(write: () => T, giveUp: () => boolean = () => false): Promise<T> {
  for (let pause = 20; ; pause = Math.min(pause * 2, 1000)) {
    try {
      return write();
    } catch (err) {
      if (!isBusy(err)) throw err;
    }
    if (giveUp()) throw new GaveUpWaiting();
    await sleep(pause);
  }
}
