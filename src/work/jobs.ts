import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Config } from "../config/load.js";

// The worker runs the built JavaScript (dist/), also when this module runs from src/ in tests.
const JOBS_WORKER = fileURLToPath(new URL("../../dist/work/jobs-worker.js", import.meta.url));

/** What the jobs' worker tells `serve`. */
export type JobsMessage = { type: "log"; line: string } | { type: "started" } | { type: "stopped" };

/** Memory the jobs may use: past it the worker stops and is started again, the site never. */
const JOBS_HEAP_MB = 768;
/** Wait before starting a worker again after it stopped by itself, doubling up to a minute. */
const RESTART_MS = 1000;

export interface Jobs {
  /** Resolves once the first worker has done the first ingest and any missed digest, and its schedules run. */
  readonly started: Promise<void>;
  /** Stops the schedules, lets a send in progress pause safely, and waits for the worker to end. */
  stop(): Promise<void>;
}

/**
 * Runs the scheduler in a worker thread of its own: ingest, fetch, bounces, digests and
 * their parsing, storing and indexing never take time from the site's event loop. A
 * worker that stops by itself (out of memory, a crash) is logged and started again.
 */
export function startJobs(config: Config, log: (line: string) => void): Jobs {
  let worker: Worker | undefined;
  let stopping = false;
  let wait = RESTART_MS;
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));

  function spawn(firstStart: boolean): void {
    const w = new Worker(JOBS_WORKER, { workerData: { config, firstStart }, resourceLimits: { maxOldGenerationSizeMb: JOBS_HEAP_MB } });
    worker = w;
    w.on("message", (m: JobsMessage) => {
      if (m.type === "log") log(m.line);
      else if (m.type === "started") {
        wait = RESTART_MS;
        markStarted();
      }
    });
    w.on("error", (err) => log(`scheduler: the jobs' worker failed: ${err.message}`));
    w.on("exit", (code) => {
      if (worker === w) worker = undefined;
      if (stopping) return;
      log(`scheduler: the jobs' worker stopped (exit code ${code}); starting it again in ${Math.round(wait / 1000)} s`);
      setTimeout(() => {
        if (!stopping) spawn(false);
      }, wait).unref();
      wait = Math.min(wait * 2, 60_000);
    });
  }

  spawn(true);
  return {
    started,
    async stop() {
      stopping = true;
      const w = worker;
      if (!w) return;
      await new Promise<void>((resolve) => {
        w.once("exit", () => resolve());
        w.postMessage({ type: "stop" });
      });
    },
  };
}
