import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { besideDatabase } from "../util/paths.js";
import type { Db } from "../store/db.js";
import { isBusy } from "../store/busy.js";
import { unsubscribe } from "../store/subscribers.js";

/**
 * Unsubscribes that arrived while another process held the database's write lock
 * (a long ingest), kept as one small file each beside the database until they can
 * be applied. A mail provider sends a one-click unsubscribe once: it is on disk, and
 * fsynced, before the answer says it is done.
 */
export function journalDir(dbPath: string): string {
  return besideDatabase(dbPath, "unsubscribes");
}

/** Records an unsubscribe durably; applying it later gives the same result as now. */
export function journalUnsubscribe(dir: string, subscriberId: number, at: string): void {
  mkdirSync(dir, { recursive: true });
  const name = `${Date.parse(at)}-${subscriberId}-${randomBytes(4).toString("hex")}`;
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify({ subscriberId, at }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, `${name}.json`));
  // The rename itself must survive a power cut too.
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * Applies journalled unsubscribes, oldest first, each as of when it arrived (a reader
 * who confirmed again since keeps the new subscription), and removes each file once
 * its write is committed. Leaves them all for later while the database is busy.
 */
export function applyJournalledUnsubscribes(db: Db, dir: string): number {
  let applied = 0;
  for (const file of listJournal(dir)) {
    const path = join(dir, file);
    let entry: { subscriberId: number; at: string };
    try {
      entry = JSON.parse(readFileSync(path, "utf8")) as { subscriberId: number; at: string };
    } catch {
      continue; // Removed by another process meanwhile.
    }
    try {
      unsubscribe(db, entry.subscriberId, entry.at);
    } catch (err) {
      if (isBusy(err)) return applied;
      throw err;
    }
    try {
      unlinkSync(path);
    } catch {
      // Another process applied it too; applying twice changes nothing.
    }
    applied++;
  }
  return applied;
}

function listJournal(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort();
  } catch {
    return [];
  }
}
