import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { CommandContext } from "../context.js";
import { catchUpSearchIndex } from "../store/search-index.js";
import { ingestFile, type IngestResult } from "./ingest-file.js";

export interface IngestAllOptions {
  capturedAt?: Date;
  /** Files inside this folder (the bundled samples, read by an unconfigured installation) give demo papers. */
  demoDir?: string;
  /** Before each file, with the bytes of the files before it. */
  onFile?: (file: string, bytesBefore: number) => void;
  /** As a large file is read, with the bytes done in all. */
  onBytes?: (bytesDone: number, file: string) => void;
  onResult?: (result: IngestResult) => void;
}

/**
 * Ingests files one by one (each in its own transaction), then adds the new papers to
 * the search index in bulk, and adds up what happened; shared by `ingest` and the scheduler.
 */
export async function ingestAll(ctx: Pick<CommandContext, "db" | "clock">, files: readonly string[], options: IngestAllOptions = {}) {
  const results: IngestResult[] = [];
  let done = 0;
  for (const file of files) {
    options.onFile?.(file, done);
    const before = done;
    const demo = options.demoDir !== undefined && isInside(file, options.demoDir);
    const r = await ingestFile(ctx, file, { capturedAt: options.capturedAt, demo, onProgress: (bytes) => options.onBytes?.(before + bytes, file) });
    done += r.bytes;
    results.push(r);
    options.onResult?.(r);
  }
  const totals = { ingested: 0, unchanged: 0, rejected: 0, papers: 0, new: 0, updated: 0 };
  for (const r of results) {
    totals[r.status]++;
    totals.papers += r.papers;
    totals.new += r.new;
    totals.updated += r.updated;
  }
  const searchIndexed = catchUpSearchIndex(ctx.db);
  return { results, totals, searchIndexed };
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(realpathOr(dir), realpathOr(file));
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
