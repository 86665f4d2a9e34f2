import { fileURLToPath } from "node:url";
import { MessageChannel, Worker } from "node:worker_threads";
import { createCredits, unlimited } from "../work/credits.js";
import type { DumpProblem } from "../dump/parse.js";
import type { DumpFacts } from "../store/dumps.js";

// Workers run the built JavaScript (dist/), also when this module runs from src/ in tests.
const DIST = new URL("../../dist/ingest/", import.meta.url);
const PARSE_WORKER = fileURLToPath(new URL("parse-worker.js", DIST));
const STORE_WORKER = fileURLToPath(new URL("store-worker.js", DIST));
const INDEX_WORKER = fileURLToPath(new URL("index-worker.js", DIST));

/**
 * Both workers allocate a paper's worth of strings per block; a larger young
 * generation lets them die young instead of being copied into the old one.
 */
const YOUNG_GENERATION = { maxYoungGenerationSizeMb: 32 };
/** Batches (of 2,000 papers) waiting between two threads at most. */
const IN_FLIGHT = 3;

/** What the store worker reports back. */
export type WorkerOutcome =
  | { type: "stored"; stored: { papers: number; new: number; updated: number; problems: DumpProblem[]; pageDate: string } }
  | { type: "rejected"; error: string };

/** Messages from the parse worker to the store worker. */
export type ParseMessage =
  | { type: "header"; pageDate: string }
  | { type: "papers"; papers: import("../model/paper.js").Paper[] }
  | { type: "end"; problems: DumpProblem[] }
  | { type: "error"; code: string | undefined; message: string };

/** Messages from the store worker to the index worker. */
export type IndexMessage =
  /** New papers' text, packed by search-rows.ts. */
  | { type: "papers"; packed: ArrayBuffer; length: number }
  | { type: "commit"; through: number }
  | { type: "abort" };

/** What the index worker reports back. */
export type IndexOutcome = { type: "indexed"; through: number; papers: number } | { type: "aborted" } | { type: "failed"; message: string };

/**
 * Ingests a large dump on every core: one worker parses and streams papers in batches
 * to another that stores them in one transaction on its own connection, which hands
 * each new paper to a third that adds it to the search index (its own database) as
 * it goes. The file still lands whole or not at all; the index commits after it.
 * `search` is given when the index holds every stored paper, from `from` on.
 */
export async function ingestInWorkers(job: {
  dbPath: string;
  bytes: Buffer;
  facts: DumpFacts;
  onProgress?: (bytesRead: number) => void;
  search?: { path: string; owner: string; from: number };
}): Promise<WorkerOutcome & { indexed?: IndexOutcome }> {
  const { port1, port2 } = new MessageChannel();
  const toIndex = job.search ? new MessageChannel() : undefined;
  // Batches in flight between the threads: enough to keep each busy, few enough to bound memory.
  const parseCredits = createCredits(IN_FLIGHT);
  const indexCredits = createCredits(IN_FLIGHT);
  const { bytes } = job;
  // Hand the file's memory over without copying it when it is not a slice of a shared pool.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  const index =
    job.search && toIndex
      ? new Worker(INDEX_WORKER, {
          workerData: { path: job.search.path, owner: job.search.owner, port: toIndex.port2, credits: indexCredits },
          transferList: [toIndex.port2],
          // It makes few objects (the text arrives as packed bytes): a small young generation will do.
          resourceLimits: { maxYoungGenerationSizeMb: 8 },
        })
      : undefined;
  const store = new Worker(STORE_WORKER, {
    workerData: { dbPath: job.dbPath, facts: job.facts, port: port2, indexPort: toIndex?.port1, indexFrom: job.search?.from ?? 0, parseCredits, indexCredits },
    transferList: toIndex ? [port2, toIndex.port1] : [port2],
    resourceLimits: YOUNG_GENERATION,
  });
  // The index's answer, whenever it comes: a failed index only means a catch-up later.
  const indexed = index
    ? new Promise<IndexOutcome>((resolve) => {
        const end = (outcome: IndexOutcome) => {
          // A failed index must never hold the store back: it no longer waits for it.
          if (outcome.type === "failed") unlimited(indexCredits);
          resolve(outcome);
        };
        index.once("message", end);
        index.once("error", (err) => end({ type: "failed", message: err.message }));
        index.once("exit", (code) => end({ type: "failed", message: `the index worker stopped (exit code ${code})` }));
      })
    : undefined;
  const parse = new Worker(PARSE_WORKER, {
    workerData: { bytes: buffer, capturedAt: job.facts.capturedAt, port: port1, credits: parseCredits },
    transferList: [buffer, port1],
    resourceLimits: YOUNG_GENERATION,
  });
  try {
    const stored = await new Promise<WorkerOutcome>((resolve, reject) => {
      store.once("message", (m: WorkerOutcome | { type: "failed"; message: string }) => (m.type === "failed" ? reject(new Error(m.message)) : resolve(m)));
      store.once("error", reject);
      store.once("exit", (code) => reject(new Error(`the ingest worker stopped (exit code ${code})`)));
      parse.once("error", reject);
      parse.on("message", (m: { type: "progress"; bytesRead: number }) => job.onProgress?.(m.bytesRead));
    });
    return indexed ? { ...stored, indexed: await indexed } : stored;
  } finally {
    await Promise.all([parse.terminate(), store.terminate(), index?.terminate()]);
  }
}
