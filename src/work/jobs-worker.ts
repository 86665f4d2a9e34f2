// Worker thread: the scheduler's jobs (ingest, fetch, bounces, digests, retries, compaction)
// run here, so that nothing they read or compute takes time from the site's event loop.
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/load.js";
import type { CommandContext } from "../context.js";
import { describeError } from "../errors.js";
import { createScheduler } from "../scheduler/scheduler.js";
import { openDatabase } from "../store/db.js";
import { systemClock } from "../util/time.js";
import type { JobsMessage } from "./jobs.js";
import { yieldToTheSite } from "./priority.js";

yieldToTheSite();

const { config, firstStart } = workerData as { config: Config; firstStart: boolean };
const send = (m: JobsMessage) => parentPort!.postMessage(m);
const log = (line: string) => send({ type: "log", line });

// A worker may wait for the write lock as long as a command does: no site waits on it.
const db = openDatabase(config.dbPath, { cacheMb: 32 });
const ctx: CommandContext = { config, db, clock: systemClock, out: log, err: log };
const scheduler = createScheduler(ctx, log);

parentPort!.on("message", (m: { type: "stop" }) => {
  if (m.type !== "stop") return;
  void scheduler
    .stop()
    .catch((err) => log(`scheduler: ${describeError(err)}`))
    .finally(() => {
      db.close();
      send({ type: "stopped" });
      parentPort!.close();
    });
});

try {
  // At the first start: what waits in the dump folder, and a digest slot missed while papermail was down.
  if (firstStart) {
    await scheduler.run("ingest");
    await scheduler.catchUp();
  }
  scheduler.start();
  send({ type: "started" });
} catch (err) {
  log(`scheduler: cannot start: ${describeError(err)}`);
  throw err;
}
