import { randomBytes } from "node:crypto";
import { closeSync, constants, fsyncSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { besideDatabase } from "../util/paths.js";
import type { Db } from "../store/db.js";
import { describeError } from "../errors.js";
import { isBusy } from "../store/busy.js";
import { applyConsentEvent } from "../store/consent.js";

/**
 * Unsubscribes that arrived while another process held the database's write lock
 * (a long ingest), kept as one small file each beside the database until they can
 * be applied. A mail provider sends a one-click unsubscribe once: it is on disk, and
 * fsynced, before the answer says it is done.
 */
export function journalDir(dbPath: string): string {
  return besideDatabase(dbPath, "unsubscribes");
}

/** Where entries that cannot be applied are moved, with the reason beside them. */
const ASIDE = "rejected";
/** An entry is one small JSON object: anything larger is not ours. */
const MAX_ENTRY_BYTES = 4096;

const ENTRY = z.object({
  subscriberId: z.number().int().positive(),
  at: z.iso.datetime(),
});

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
 * its write is committed. Leaves them all for later while the database is busy. Reads
 * regular files only, never following a link or blocking on a pipe; an entry that is
 * not a valid unsubscribe is moved to `rejected/` with the reason (`log` says so) and
 * the rest still land.
 */
export function applyJournalledUnsubscribes(db: Db, dir: string, log: (line: string) => void = () => undefined): number {
  let applied = 0;
  for (const file of listJournal(dir)) {
    const path = join(dir, file);
    const read = readEntry(path);
    if (read === "gone") continue; // Applied by another process meanwhile.
    if (typeof read === "string") {
      setAside(dir, file, read, log);
      continue;
    }
    try {
      applyConsentEvent(db, { id: read.subscriberId }, { type: "unsubscribe" }, read.at);
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

/** One entry, or why it is not one ("gone": removed meanwhile). */
function readEntry(path: string): z.infer<typeof ENTRY> | string {
  let fd: number;
  try {
    // O_NOFOLLOW and O_NONBLOCK: a symlink is refused, a FIFO never blocks the open.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "gone" : `cannot be opened (${code === "ELOOP" ? "a symbolic link" : code})`;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return "is not a regular file";
    if (stat.size > MAX_ENTRY_BYTES) return `is ${stat.size} bytes (an entry is under ${MAX_ENTRY_BYTES})`;
    const buf = Buffer.alloc(stat.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let value: unknown;
    try {
      value = JSON.parse(buf.subarray(0, n).toString("utf8"));
    } catch {
      return "is not JSON";
    }
    const parsed = ENTRY.safeParse(value);
    if (!parsed.success) return `is not an unsubscribe entry (${parsed.error.issues[0]!.path.join(".") || "value"}: ${parsed.error.issues[0]!.message})`;
    return parsed.data;
  } finally {
    closeSync(fd);
  }
}

function setAside(dir: string, file: string, why: string, log: (line: string) => void): void {
  try {
    mkdirSync(join(dir, ASIDE), { recursive: true });
    renameSync(join(dir, file), join(dir, ASIDE, file));
    log(`unsubscribe journal: ${file} ${why}: moved to ${ASIDE}/`);
  } catch (err) {
    // Moved by another process, or the folder is read-only: never stop the others for it.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      try {
        if (lstatSync(join(dir, file))) unlinkSync(join(dir, file));
        log(`unsubscribe journal: ${file} ${why}: removed (could not be moved aside)`);
      } catch {
        log(`unsubscribe journal: ${file} ${why}: left in place`);
      }
    }
  }
}

function listJournal(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.name.endsWith(".json") && !e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** How often `serve` looks for journalled unsubscribes. */
const APPLY_EVERY_MS = 2000;

/**
 * Applies journalled unsubscribes every 2 s, as soon as the write lock is free: one of
 * `serve`'s timed jobs, beside the scheduler. Returns the function that stops it.
 */
export function watchUnsubscribeJournal(db: Db, dbPath: string, log: (line: string) => void): () => void {
  const dir = journalDir(dbPath);
  const timer = setInterval(() => {
    try {
      const n = applyJournalledUnsubscribes(db, dir, log);
      if (n > 0) log(`applied ${n} unsubscribe${n === 1 ? "" : "s"} that arrived while the database was busy`);
    } catch (err) {
      log(`unsubscribe journal: ${describeError(err)}`);
    }
  }, APPLY_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
