import { listPapers, purgePapers, type PurgeSelection } from "../store/papers.js";
import { type StoredPaper } from "../model/paper.js";
import { findDumpForFile } from "../store/dumps.js";
import { PapermailError } from "../errors.js";
import { paperLinks } from "../model/paper.js";
import { listRetiredPapers } from "../store/list-days.js";
import { longDate, shortDay } from "../util/time.js";
import { byline } from "../render/byline.js";
import { EXIT, printJson, type CommandContext } from "./context.js";
import { cleanText } from "../model/text.js";
import { rewriteMarked } from "../util/mark-words.js";
import { paperPageUrl } from "../render/links.js";
import { catchUpSearchIndex } from "../store/search-index.js";
import { MATCH_END, MATCH_START, searchPapers } from "../store/search.js";

/** `papermail papers`: stored papers, newest list day first and most upvoted first within a day. */
export function runPapers(ctx: CommandContext, flags: { json: boolean; unsent: boolean; passedOver?: boolean; limit?: number; search?: string; page?: number }): number {
  if ([flags.unsent, flags.passedOver, flags.search !== undefined].filter(Boolean).length > 1) {
    throw new PapermailError("USAGE", "papers takes one of --unsent, --passed-over or --search");
  }
  if (flags.page !== undefined && flags.search === undefined) throw new PapermailError("USAGE", "--page goes with --search");
  if (flags.search !== undefined) return search(ctx, flags.search, flags);
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

/** `papers --search WORDS`: the site's search from the command line, the matching words in brackets. */
function search(ctx: CommandContext, query: string, flags: { json: boolean; limit?: number; page?: number }): number {
  catchUpSearchIndex(ctx.db);
  const limit = flags.limit ?? 20;
  const page = flags.page ?? 1;
  const result = searchPapers(ctx.db, query, { limit, offset: (page - 1) * limit });
  const plain = (marked: string, open = "[", close = "]") => rewriteMarked(marked, { start: MATCH_START, end: MATCH_END }, cleanText, open, close);
  if (flags.json) {
    printJson(ctx, {
      query,
      words: result.words,
      match: result.match,
      total: result.total,
      more: result.more,
      page,
      papers: result.papers.map(({ markedTitle, markedSnippet, ...p }) => ({
        ...p,
        ...paperLinks(p),
        url: paperPageUrl(ctx.config, p.slug),
        huggingFaceUrl: paperLinks(p).url,
        snippet: plain(markedSnippet, "", ""),
        matchedTitle: plain(markedTitle),
      })),
    });
    return EXIT.ok;
  }
  const count = `${result.total}${result.more ? "+" : ""}`;
  if (result.words.length === 0) ctx.out("Nothing to search for: a search looks for words (letters and digits).");
  else if (result.total === 0) ctx.out(`No paper matches ${result.words.map((w) => `"${w}"`).join(" or ")}.`);
  else ctx.out(result.match === "any" ? `No paper has all of these words; ${count} have some of them, best match first:` : `${count} ${count === "1" ? "paper matches" : "papers match"}, best match first:`);
  result.papers.forEach((p, i) => {
    ctx.out(`${String((page - 1) * limit + i + 1).padStart(4)}. ${plain(p.markedTitle)}`);
    ctx.out(`      ${shortDay(p.listDay)} · ${upvotes(p).trim()} ▲${describeByline(p)}`);
    if (p.markedSnippet) ctx.out(`      ${plain(p.markedSnippet)}`);
    ctx.out(`      ${paperPageUrl(ctx.config, p.slug)}`);
  });
  if (result.papers.length === limit && ((page - 1) * limit + limit < result.total || result.more)) ctx.out(`More: papermail papers --search ${JSON.stringify(query)} --page ${page + 1}`);
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
  // The papers leave the search index too (they were queued as they went).
  if (!flags.dryRun && removed.length > 0) catchUpSearchIndex(ctx.db);
  if (flags.json) printJson(ctx, { dryRun: flags.dryRun, papers: removed });
  else {
    for (const p of removed) ctx.out(`${flags.dryRun ? "would remove" : "removed"}  ${p.title}`);
    ctx.out(`${removed.length} unsent paper(s) ${flags.dryRun ? "would be removed (dry run: nothing changed)" : "removed"}; papers a digest carried are kept.`);
  }
  return EXIT.ok;
}
