import { watchInstallation } from "../alarms/watch.js";
import { statSync } from "node:fs";
import { SAMPLES_DIR } from "../config/load.js";
import { ingestAll } from "../ingest/ingest-all.js";
import type { IngestResult } from "../ingest/ingest-file.js";
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
  const { files, problems } = listDumpFiles(paths.length > 0 ? paths : [ctx.config.dumpsDir]);
  if (!flags.json) for (const p of problems) ctx.err(`skipped    ${displayPath(p.path)}: ${p.reason}`);
  const totalBytes = files.reduce((sum, f) => sum + fileSize(f), 0);
  const progress = createProgress({ total: totalBytes, enabled: !flags.json && (files.length >= 10 || totalBytes >= 10e6) });
  const summary = await ingestAll(ctx, files, {
    capturedAt: flags.capturedAt,
    demoDir: ctx.config.demo ? SAMPLES_DIR : undefined,
    onFile: (file, bytesBefore) => progress.update(bytesBefore, displayPath(file)),
    onBytes: (bytesDone, file) => progress.update(bytesDone, displayPath(file)),
    onResult: (r) => {
      progress.finish();
      if (!flags.json) for (const line of describe(r)) ctx.out(line);
    },
  });
  progress.finish();
  const stored = countPapers(ctx.db);
  const totals = { files: files.length, ...summary.totals, skipped: problems.length, stored: stored.total, unsent: stored.unsent, searchIndexed: summary.searchIndexed };
  if (flags.json) {
    printJson(ctx, { files: summary.results.map((r) => ({ ...r, path: displayPath(r.path) })), skipped: problems.map((p) => ({ ...p, path: displayPath(p.path) })), totals });
  } else {
    if (files.length === 0) ctx.out(`No dump files in ${paths.map(displayPath).join(", ") || displayPath(ctx.config.dumpsDir)}.`);
    ctx.out(
      `${files.length} file(s): ${totals.ingested} ingested, ${totals.unchanged} unchanged, ${totals.rejected} rejected${problems.length ? `, ${problems.length} skipped` : ""}; ` +
        `${totals.new} new and ${totals.updated} updated papers. ${stored.total} papers stored, ${stored.unsent} waiting for a digest.` +
        (summary.searchIndexed > 0 ? ` ${summary.searchIndexed} added to the search index.` : ""),
    );
  }
  await watchInstallation(ctx, ctx.err);
  return totals.rejected > 0 || problems.length > 0 ? EXIT.rejected : EXIT.ok;
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
