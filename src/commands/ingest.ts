import { statSync } from "node:fs";
import { ingestFile, type IngestResult } from "../ingest/ingest-file.js";
import { listDumpFiles } from "../ingest/list-files.js";
import { countPapers } from "../store/papers.js";
import { createProgress } from "../util/progress.js";
import { longDate } from "../util/time.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

export interface IngestFlags {
  json: boolean;
  capturedAt?: Date;
}

/** `papermail ingest [PATH...]`: every file in, per-file report out; exit 1 if any file was rejected. */
export async function runIngest(ctx: CommandContext, paths: string[], flags: IngestFlags): Promise<number> {
  const files = listDumpFiles(paths.length > 0 ? paths : [ctx.config.dumpsDir]);
  const summary = await ingestAll(ctx, files, flags);
  const stored = countPapers(ctx.db);
  const totals = { files: files.length, ...summary.totals, stored: stored.total, unsent: stored.unsent };
  if (flags.json) {
    printJson(ctx, { files: summary.results.map((r) => ({ ...r, path: displayPath(r.path) })), totals });
  } else {
    if (files.length === 0) ctx.out(`No dump files in ${paths.map(displayPath).join(", ") || displayPath(ctx.config.dumpsDir)}.`);
    ctx.out(
      `${files.length} file(s): ${totals.ingested} ingested, ${totals.unchanged} unchanged, ${totals.rejected} rejected; ` +
        `${totals.new} new and ${totals.updated} updated papers. ${stored.total} papers stored, ${stored.unsent} not yet sent.`,
    );
  }
  return totals.rejected > 0 ? EXIT.rejected : EXIT.ok;
}

/** Ingests files one by one, printing a line per file (unless --json) and a progress bar on a terminal. */
export async function ingestAll(ctx: CommandContext, files: string[], flags: IngestFlags) {
  const totalBytes = files.reduce((sum, f) => sum + fileSize(f), 0);
  const progress = createProgress({ total: totalBytes, enabled: !flags.json && (files.length >= 10 || totalBytes >= 10e6) });
  const results: IngestResult[] = [];
  let done = 0;
  for (const file of files) {
    progress.update(done, displayPath(file));
    const r = await ingestFile(ctx, file, { capturedAt: flags.capturedAt });
    done += r.bytes;
    results.push(r);
    if (!flags.json) {
      progress.finish();
      for (const line of describe(r)) ctx.out(line);
    }
  }
  progress.finish();
  const totals = { ingested: 0, unchanged: 0, rejected: 0, papers: 0, new: 0, updated: 0 };
  for (const r of results) {
    totals[r.status]++;
    totals.papers += r.papers;
    totals.new += r.new;
    totals.updated += r.updated;
  }
  return { results, totals };
}

function describe(r: IngestResult): string[] {
  const path = displayPath(r.path);
  if (r.status === "rejected") return [`rejected   ${path}: ${r.error}`];
  if (r.status === "unchanged") return [`unchanged  ${path}: already ingested (${r.papers} papers)`];
  const page = r.pageDate ? `, page of ${longDate(r.pageDate)}` : "";
  const lines = [`ingested   ${path}: ${r.papers} papers, ${r.new} new, ${r.updated} updated${page}`];
  for (const p of r.problems) lines.push(`  ${path}:${p.line}: ${p.message}`);
  return lines;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // reported as unreadable by ingestFile
  }
}
