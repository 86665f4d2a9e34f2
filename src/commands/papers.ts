import { listPapers, type StoredPaper } from "../store/papers.js";
import { paperLinks } from "../dump/paper-key.js";
import { longDate } from "../util/time.js";
import { byline } from "../render/byline.js";
import { EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail papers`: stored papers, most upvoted first. */
export function runPapers(ctx: CommandContext, flags: { json: boolean; unsent: boolean; limit?: number }): number {
  const papers = listPapers(ctx.db, { unsentOnly: flags.unsent, limit: flags.limit });
  if (flags.json) {
    printJson(ctx, papers.map((p) => ({ ...p, ...paperLinks(p) })));
    return EXIT.ok;
  }
  if (papers.length === 0) ctx.out(flags.unsent ? "No papers waiting for a digest." : "No papers stored yet: run `papermail ingest`.");
  for (const p of papers) ctx.out(`${String(p.upvotes).padStart(5)} ▲  ${p.title}${describeByline(p)}`);
  return EXIT.ok;
}

/** " (8 authors, Apr 22, 2023)" or "" when nothing is known. */
export function describeByline(p: StoredPaper): string {
  const parts = [byline(p), p.publishedOn ? longDate(p.publishedOn) : null].filter(Boolean);
  return parts.length ? `  (${parts.join(", ")})` : "";
}
