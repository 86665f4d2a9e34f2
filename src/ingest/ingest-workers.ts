import { fileURLToPath } from "node:url";
import { MessageChannel, Worker } from "node:worker_threads";
import type { DumpProblem } from "../dump/parse.js";
import type { DumpFacts } from "../store/dumps.js";

// Workers run the built JavaScript (dist/), also when this module runs from src/ in tests.
const DIST = new URL("../../dist/ingest/", import.meta.url);
const PARSE_WORKER = fileURLToPath(new URL("parse-worker.js", DIST));
const STORE_WORKER = fileURLToPath(new URL("store-worker.js", DIST));

/**
 * Both workers allocate a paper's worth of strings per block; a larger young
 * generation lets them die young instead of being copied into the old one.
 */
const YOUNG_GENERATION = { maxYoungGenerationSizeMb: 64 };

/** What the store worker reports back. */
export type WorkerOutcome =
  | { type: "stored"; stored: { papers: number; new: number; updated: number; problems: DumpProblem[]; pageDate: string } }
  | { type: "rejected"; error: string };

/** Messages from the parse worker to the store worker. */
export type ParseMessage =
  | { type: "header"; pageDate: string }
  | { type: "papers"; papers: import("../dump/parse.js").Paper[] }
  | { type: "end"; problems: DumpProblem[] }
  | { type: "error"; code: string | undefined; message: string };

/**
 * Ingests a large dump on both cores: one worker parses and streams papers in
 * batches to another that stores them in one transaction on its own connection.
 * The file still lands whole or not at all.
 */
export async function ingestInWorkers(job: { dbPath: string; bytes: Buffer; facts: DumpFacts; onProgress?: (bytesRead: number) => void }): Promise<WorkerOutcome> {
  const { port1, port2 } = new MessageChannel();
  const { bytes } = job;
  // Hand the file's memory over without copying it when it is not a slice of a shared pool.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  const store = new Worker(STORE_WORKER, {
    workerData: { dbPath: job.dbPath, facts: job.facts, port: port2 },
    transferList: [port2],
    resourceLimits: YOUNG_GENERATION,
  });
  const parse = new Worker(PARSE_WORKER, {
    workerData: { bytes: buffer, capturedAt: job.facts.capturedAt, port: port1 },
    transferList: [buffer, port1],
    resourceLimits: YOUNG_GENERATION,
  });
  try {
    return await new Promise<WorkerOutcome>((resolve, reject) => {
      store.once("message", (m: WorkerOutcome | { type: "failed"; message: string }) => (m.type === "failed" ? reject(new Error(m.message)) : resolve(m)));
      store.once("error", reject);
      store.once("exit", (code) => reject(new Error(`the ingest worker stopped (exit code ${code})`)));
      parse.once("error", reject);
      parse.on("message", (m: { type: "progress"; bytesRead: number }) => job.onProgress?.(m.bytesRead));
    });
  } finally {
    await Promise.all([parse.terminate(), store.terminate()]);
  }
}
