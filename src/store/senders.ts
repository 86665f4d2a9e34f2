import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { cachedStatement, type Db } from "./db.js";

/** How long a sender's heartbeat stays good: its rows in flight are its own until then. */
export const LEASE_MS = 60_000;
const HEARTBEAT_MS = 10_000;

/** This process's name in the ledger: host, pid, and a random part, so a restarted process with the same pid is someone else. */
export function ownerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
}

/**
 * Announces `owner` as a live sender of `digestId` until the returned function is
 * called. A beat that finds the database busy is skipped: the lease is far longer
 * than a beat.
 */
export function holdSenderLease(db: Db, owner: string, digestId: number, now: () => Date): () => void {
  const beat = () => {
    try {
      cachedStatement(
        db,
        "INSERT INTO senders (owner, digest_id, heartbeat_at) VALUES (?, ?, ?) ON CONFLICT (owner) DO UPDATE SET digest_id = excluded.digest_id, heartbeat_at = excluded.heartbeat_at",
      ).run(owner, digestId, now().toISOString());
    } catch {
      // Busy or closing: the next beat tries again.
    }
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    try {
      db.prepare("DELETE FROM senders WHERE owner = ?").run(owner);
    } catch {
      // A stale row is harmless: it only ever lets others recover sooner.
    }
  };
}

/**
 * True when `owner` may still be sending: it has beaten within the lease and, when
 * it ran on this host, a process with its pid exists. A dead pid frees its rows at
 * once; a live one may be a newcomer with a recycled pid, so the lease decides.
 */
export function hasLiveLease(db: Db, owner: string, now: Date): boolean {
  const [host, pid] = owner.split(":");
  if (host === hostname() && !isAlive(Number(pid))) return false;
  const since = new Date(now.getTime() - LEASE_MS).toISOString();
  return db.prepare<[string, string], { n: number }>("SELECT count(*) AS n FROM senders WHERE owner = ? AND heartbeat_at >= ?").get(owner, since)!.n > 0;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The oldest heartbeat that still counts, for queries that look for live senders. */
export function leaseCutoff(now: Date): string {
  return new Date(now.getTime() - LEASE_MS).toISOString();
}

/** Forgets senders whose lease ran out long ago. */
export function pruneSenders(db: Db, now: Date): void {
  db.prepare("DELETE FROM senders WHERE heartbeat_at < ?").run(new Date(now.getTime() - 24 * 3600_000).toISOString());
}
