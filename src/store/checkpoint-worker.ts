// Worker thread: passive WAL checkpoints on its own connection while a digest is sent.
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path, { timeout: 0 });
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or closing: the next tick tries again.
  }
};
const timer = setInterval(checkpoint, intervalMs);
// On stop, no last checkpoint: what is left in the WAL goes back at SQLite's next automatic one.
parentPort!.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
