import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { besideDatabase } from "../util/paths.js";

/**
 * Which messages a sender started writing to the mail server, one line each, kept
 * beside the database while it sends. A sender killed mid-run leaves rows `sending`:
 * the journal tells the ones whose data may have reached the server (they become
 * `unknown`) from the ones that never got that far (back to the queue). Appended
 * without fsync: a killed process's writes are in the page cache, which outlives it;
 * only a machine crash could lose a line, and then the row is `unknown`, as before.
 */
export interface SendJournal {
  /** Notes that this row's message data is about to be written. */
  started(digestId: number, subscriberId: number): void;
  /** Closes the journal; removes it when every row it covers is settled (`settled`). */
  close(settled: boolean): void;
}

export function journalFolder(dbPath: string): string {
  return besideDatabase(dbPath, "sending");
}

function fileOf(dir: string, owner: string): string {
  return join(dir, `${owner.replace(/[^A-Za-z0-9._-]/g, "_")}.log`);
}

export function openSendJournal(dir: string, owner: string): SendJournal {
  mkdirSync(dir, { recursive: true });
  const file = fileOf(dir, owner);
  const fd = openSync(file, "a");
  let open = true;
  return {
    started(digestId, subscriberId) {
      if (open) writeSync(fd, `${digestId} ${subscriberId}\n`);
    },
    close(settled) {
      if (!open) return;
      open = false;
      closeSync(fd);
      if (settled) rmSync(file, { force: true });
    },
  };
}

/** The rows a gone sender started writing ("digest subscriber"), or undefined when it left no journal. */
export function readSendJournal(dir: string, owner: string): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync(fileOf(dir, owner), "utf8");
  } catch {
    return undefined;
  }
  return new Set(text.split("\n").filter(Boolean));
}

/** Removes a gone sender's journal once its rows are recovered. */
export function removeSendJournal(dir: string, owner: string): void {
  rmSync(fileOf(dir, owner), { force: true });
}
