import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { isUtf8 } from "node:buffer";
import { describeError, isPapermailError, PapermailError } from "../errors.js";
import { scanDump, type DumpProblem, type DumpSink } from "../dump/parse.js";
import { looksLikeJson, scanJsonDump } from "../dump/parse-json.js";
import type { Db } from "../store/db.js";
import { findDumpByHash, findIngestedByStat, moveDump, recordDump, setDumpCounts, type DumpFacts } from "../store/dumps.js";
import { ingestInWorkers } from "./ingest-workers.js";
import { createPaperWriter } from "../store/paper-writer.js";
import { searchDbPath, searchOwner, setIndexedThrough } from "../store/search-db.js";
import { searchIndexCurrent } from "../store/search-index.js";
import type { Clock } from "../util/time.js";

/** What happened to one file; the shape of `ingest --json` rows. */
export interface IngestResult {
  path: string;
  status: "ingested" | "unchanged" | "rejected";
  papers: number;
  new: number;
  updated: number;
  error: string | null;
  /** Blocks that were skipped, with their line numbers; the rest landed. */
  problems: DumpProblem[];
  pageDate: string | null;
  bytes: number;
}

export interface IngestOptions {
  /** Overrides the capture time taken from the file name or modification time. */
  capturedAt?: Date;
  /** Files this large are parsed and stored by two worker threads at once. */
  parallelAboveBytes?: number;
  /** Now and then, the bytes of this file read so far. */
  onProgress?: (bytesRead: number) => void;
  /** A bundled sample read by an unconfigured installation: its new papers are demo papers. */
  demo?: boolean;
  /** The day a fetch asked Hugging Face for: the list day of JSON entries that name none. */
  listDay?: string;
}

/** Below this, starting worker threads costs more than it saves. */
const PARALLEL_ABOVE_BYTES = 16 * 1024 * 1024;

/**
 * Ingests one dump file in one transaction: it lands whole or not at all. A file
 * whose content was ingested before is `unchanged`; one that is not a dump is
 * `rejected` with the reason, and no paper is touched.
 */
export async function ingestFile(deps: { db: Db; clock: Clock }, path: string, options: IngestOptions = {}): Promise<IngestResult> {
  const { db, clock } = deps;
  const result: IngestResult = { path, status: "rejected", papers: 0, new: 0, updated: 0, error: null, problems: [], pageDate: null, bytes: 0 };
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    return { ...result, error: `cannot read: ${describeError(err)}` };
  }
  if (!stat.isFile()) return { ...result, error: "not a regular file" };
  result.bytes = stat.size;

  // A sample read by the demo and now ingested on purpose is read again: every paper in it leaves the demo.
  const adopting = (d: { demo: number } | undefined) => Boolean(d?.demo) && !options.demo;
  const seen = findIngestedByStat(db, path, stat.size, stat.mtimeMs);
  if (seen && !adopting(seen)) return { ...result, status: "unchanged", papers: seen.papers };

  let bytes: Buffer;
  try {
    bytes = readRegularFile(path);
  } catch (err) {
    return { ...result, error: `cannot read: ${describeError(err)}` };
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const known = findDumpByHash(db, sha256);
  if (known?.status === "ingested" && !adopting(known)) {
    moveDump(db, known.id, path, stat.size, stat.mtimeMs);
    return { ...result, status: "unchanged", papers: known.papers };
  }

  const capturedAt = options.capturedAt ?? captureTimeFromName(path) ?? stat.mtime;
  const facts: DumpFacts = {
    sha256,
    path,
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    pageDate: null,
    capturedAt: capturedAt.toISOString(),
    papers: 0,
    newPapers: 0,
    updatedPapers: 0,
    problems: 0,
    error: null,
    ingestedAt: clock.now().toISOString(),
    demo: options.demo,
  };
  try {
    checkText(bytes);
  } catch (err) {
    return reject(db, facts, result, err);
  }
  const json = looksLikeJson(bytes);
  const parallelAbove = options.parallelAboveBytes ?? PARALLEL_ABOVE_BYTES;
  if (!json && !options.demo && bytes.length >= parallelAbove && db.name !== ":memory:") {
    // The search index is built beside the store when it holds every paper stored so far.
    const search = searchIndexCurrent(db) ? { path: searchDbPath(db.name), owner: searchOwner(db), from: maxPaperId(db) } : undefined;
    const outcome = await ingestInWorkers({ dbPath: db.name, bytes, facts, onProgress: options.onProgress, search });
    if (outcome.indexed?.type === "indexed") setIndexedThrough(db, outcome.indexed.through);
    if (outcome.type === "rejected") return { ...result, error: outcome.error };
    return { ...result, ...outcome.stored, status: "ingested" };
  }
  try {
    // The same streaming parser and paper writer as the worker path: one file, one result, whichever path runs.
    const stored = db
      .transaction(() => {
        let dumpId = 0;
        let writer: ReturnType<typeof createPaperWriter> | undefined;
        let pageDate = "";
        const sink: DumpSink = {
          header(date) {
            pageDate = date;
            dumpId = recordDump(db, "ingested", { ...facts, pageDate });
            // Page text: the page's date. JSON: each entry's own day, else the day asked for, else the capture's day.
            const listDay = json ? (options.listDay ?? listDayFromName(path) ?? facts.capturedAt.slice(0, 10)) : date;
            writer = createPaperWriter(db, { capturedAt: facts.capturedAt, seenAt: facts.ingestedAt, dumpId, listDay, demo: options.demo });
          },
          paper: (p) => writer!.write(p),
          progress: options.onProgress,
        };
        // Page text and daily_papers JSON go through the same writer.
        const { problems } = json ? scanJsonDump(bytes, sink) : scanDump(bytes, { capturedAt }, sink);
        const { counts, distinct } = writer!;
        setDumpCounts(db, dumpId, { papers: distinct, problems: problems.length, newPapers: counts.new, updatedPapers: counts.updated });
        return { papers: distinct, new: counts.new, updated: counts.updated, problems, pageDate };
      })
      .immediate();
    return { ...result, status: "ingested", ...stored };
  } catch (err) {
    return reject(db, facts, result, err);
  }
}

function maxPaperId(db: Db): number {
  return (db.prepare("SELECT max(id) AS id FROM papers").get() as { id: number | null }).id ?? 0;
}

/** Records a rejected dump (its reason kept, no paper touched) and reports it; other errors propagate. */
function reject(db: Db, facts: DumpFacts, result: IngestResult, err: unknown): IngestResult {
  if (!isPapermailError(err, "DUMP_REJECTED")) throw err;
  recordDump(db, "rejected", { ...facts, error: err.message });
  return { ...result, error: err.message };
}

/**
 * Reads a file that must be a regular file. Opened without blocking, then checked:
 * a FIFO swapped in after the folder was listed is refused, never waited on.
 */
function readRegularFile(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error("not a regular file");
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Checks that bytes are UTF-8 text; DUMP_REJECTED for empty and binary files. */
function checkText(bytes: Buffer): void {
  if (bytes.length === 0) throw new PapermailError("DUMP_REJECTED", "the file is empty");
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new PapermailError("DUMP_REJECTED", `a binary file (NUL byte at offset ${nul}), not a text dump`);
  if (!isUtf8(bytes)) throw new PapermailError("DUMP_REJECTED", "not UTF-8 text");
}

/**
 * A capture time written into the file name, read as UTC: the `fetched-YYYYMMDDTHHMMSSZ`
 * stamp of a fetched file (its other date is the day asked for, not the capture), else
 * a date YYYY-MM-DD, optionally with THH:MM[:SS].
 */
export function captureTimeFromName(path: string): Date | undefined {
  const stamp = /fetched-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(basename(path));
  if (stamp) {
    const [y, mo, d, h, mi, s] = stamp.slice(1).map(Number) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    if (!Number.isNaN(date.getTime()) && date.getUTCDate() === d) return date;
  }
  const m = /(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:[T_ ](\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?)?(?!\d)/.exec(basename(path));
  if (!m) return undefined;
  const [y, mo, d, h = "12", mi = "00", s = "00"] = m.slice(1).map((v) => v);
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  return Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(d) ? undefined : date;
}

/** The day a fetched file asked for (`daily_papers_YYYY-MM-DD_...`), or undefined. */
export function listDayFromName(path: string): string | undefined {
  const m = /^daily_papers_(\d{4}-\d{2}-\d{2})(?!\d)/.exec(basename(path));
  return m && !Number.isNaN(Date.parse(m[1]!)) ? m[1] : undefined;
}
