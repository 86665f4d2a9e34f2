import { listPapers, purgePapers, type PurgeSelection, type StoredPaper } from "../store/papers.js";
import { findDumpForFile } from "../store/dumps.js";
import { PapermailError } from "../errors.js";
import { paperLinks } from "../dump/paper-key.js";
import { listRetiredPapers } from "../store/list-days.js";
import { longDate, shortDay } from "../util/time.js";
import { byline } from "../render/byline.js";
import { EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail papers`: stored papers, newest list day first and most upvoted first within a day. */
export function runPapers(ctx: CommandContext, flags: { json: boolean; unsent: boolean; passedOver?: boolean; limit?: number }): number {
  if (flags.unsent && flags.passedOver) throw new PapermailError("USAGE", "papers takes --unsent or --passed-over, not both");
  if (flags.passedOver) return passedOver(ctx, flags);
  const papers = listPapers(ctx.db, { unsentOnly: flags.unsent, limit: flags.limit });
  if (flags.json) {
    printJson(ctx, papers.map((p) => ({ ...p, ...paperLinks(p) })));
    return EXIT.ok;
  }
  if (papers.length === 0) ctx.out(flags.unsent ? "No papers waiting for a digest." : "No papers stored yet: run `papermail ingest`.");
  for (const p of papers) ctx.out(`${shortDay(p.listDay).padEnd(6)} ${upvotes(p)} ▲  ${p.title}${describeByline(p)}\n${linkLine(p)}`);
  return EXIT.ok;
}

/** `papers --passed-over`: papers no digest will carry, and why: over the cap, below the floor, or expired. */
function passedOver(ctx: CommandContext, flags: { json: boolean; limit?: number }): number {
  const papers = listRetiredPapers(ctx.db, flags.limit ?? -1);
  if (flags.json) {
    printJson(ctx, papers.map((p) => ({ ...p, ...paperLinks(p) })));
    return EXIT.ok;
  }
  if (papers.length === 0) ctx.out("No paper was passed over or expired.");
  for (const p of papers) ctx.out(`${shortDay(p.listDay).padEnd(6)} ${upvotes(p)} ▲  ${p.title}\n       ${p.fate}: ${p.note}`);
  return EXIT.ok;
}

/** The paper's page, its PDF and its code, indented under the title. */
function linkLine(p: StoredPaper): string {
  const { url, pdfUrl } = paperLinks(p);
  return `${" ".repeat(15)}${[url, pdfUrl, p.codeUrl].filter(Boolean).join("  ")}`;
}

/** The count right-aligned, "?" when no capture showed one. */
function upvotes(p: StoredPaper): string {
  return (p.upvotesAt === null ? "?" : String(p.upvotes)).padStart(5);
}

/** " (8 authors, Apr 22, 2023)" or "" when nothing is known. */
export function describeByline(p: StoredPaper): string {
  const parts = [byline(p), p.publishedOn ? longDate(p.publishedOn) : null].filter(Boolean);
  return parts.length ? `  (${parts.join(", ")})` : "";
}

/** `papermail papers purge (--dump FILE | --before DATE | --unsent) [--dry-run]`: removes papers no digest carried yet. */
export function runPurge(ctx: CommandContext, flags: { dump?: string; before?: string; unsent: boolean; dryRun: boolean; json: boolean }): number {
  const chosen = [flags.dump !== undefined, flags.before !== undefined, flags.unsent].filter(Boolean).length;
  if (chosen !== 1) throw new PapermailError("USAGE", "papers purge needs exactly one of --dump FILE, --before DATE or --unsent");
  let selection: PurgeSelection;
  if (flags.dump !== undefined) {
    const dump = findDumpForFile(ctx.db, flags.dump);
    if (!dump) throw new PapermailError("NOT_FOUND", `${flags.dump}: no ingested dump has this path or content`);
    selection = { dumpId: dump.id };
  } else if (flags.before !== undefined) selection = { before: flags.before };
  else selection = { unsent: true };
  const removed = purgePapers(ctx.db, selection, flags.dryRun);
  if (flags.json) printJson(ctx, { dryRun: flags.dryRun, papers: removed });
  else {
    for (const p of removed) ctx.out(`${flags.dryRun ? "would remove" : "removed"}  ${p.title}`);
    ctx.out(`${removed.length} unsent paper(s) ${flags.dryRun ? "would be removed (dry run: nothing changed)" : "removed"}; papers a digest carried are kept.`);
  }
  return EXIT.ok;
}
