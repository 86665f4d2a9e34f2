import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Db } from "./db.js";

// Workers run the built JavaScript (dist/), also when this module runs from src/ in tests.
const WORKER = fileURLToPath(new URL("../../dist/store/checkpoint-worker.js", import.meta.url));

/**
 * Moves WAL checkpoints off the sending thread while a digest goes out. Every commit
 * of the ledger appends to the WAL, and SQLite's automatic checkpoint would copy it
 * back and fsync inside a commit, with every open SMTP session waiting on the event
 * loop. A worker thread on its own connection checkpoints passively (never blocking
 * a writer) four times a second instead. Returns the function that stops it.
 */
export function checkpointInBackground(db: Db): () => Promise<void> {
  if (db.memory || db.name === ":memory:") return async () => undefined;
  const before = db.pragma("wal_autocheckpoint", { simple: true }) as number;
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { workerData: { path: db.name, intervalMs: 250 } });
  } catch {
    return async () => undefined; // not built: SQLite's own checkpoints stay on
  }
  db.pragma("wal_autocheckpoint = 0");
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  // A worker that failed gives the checkpoints back to SQLite at once.
  worker.on("error", () => db.open && db.pragma(`wal_autocheckpoint = ${before}`));
  return async () => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${before}`);
    worker.postMessage("stop");
    await exited;
  };
}
