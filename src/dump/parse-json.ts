import { z } from "zod";
import { PapermailError } from "../errors.js";
import { cleanText, oneLine, unwrapParagraphs } from "../model/text.js";
import { extractLinks, isHttpUrl, pickCodeLink } from "../model/links.js";
import { isUsableKey, paperKey, paperSlug } from "../model/paper.js";
import type { DumpProblem, DumpSink } from "./parse.js";
import type { Paper } from "../model/paper.js";
import { DEFAULT_JSON_LIMITS, parseEntry, splitJsonEntries, type JsonLimits } from "./json-entries.js";

/** True when a dump's text is JSON (an array, or one object per line) rather than page text. */
export function looksLikeJson(bytes: Buffer): boolean {
  for (let i = 0; i < Math.min(bytes.length, 4096); i++) {
    const c = bytes[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xef || c === 0xbb || c === 0xbf) continue;
    return c === 0x5b || c === 0x7b; // [ or {
  }
  return false;
}

const text = z.string().transform((s) => cleanText(s).trim());
const optionalText = text.nullish().catch(null);
const url = z
  .string()
  .transform((s) => cleanText(s).trim())
  .nullish()
  .catch(null)
  .transform((s) => (s && isHttpUrl(s) ? s : null));
const count = z.coerce.number().int().nonnegative().nullish().catch(null);

/** The fields papermail reads from a paper, wherever the entry keeps them (top level or under `paper`). */
const PaperFields = z.looseObject({
  id: z.string().nullish().catch(null),
  title: optionalText,
  summary: optionalText,
  authors: z
    .array(z.union([z.looseObject({ name: z.string() }), z.string()]))
    .nullish()
    .catch(null),
  publishedAt: z.string().nullish().catch(null),
  submittedOnDailyAt: z.string().nullish().catch(null),
  upvotes: count,
  numComments: count,
  githubRepo: url,
  projectPage: url,
  organization: z
    .union([z.looseObject({ name: z.string().nullish(), fullname: z.string().nullish() }), z.string()])
    .nullish()
    .catch(null),
  ai_keywords: z.array(z.string()).nullish().catch(null),
  ai_summary: optionalText,
  githubStars: count,
  thumbnail: url,
  withdrawnAt: z.string().nullish().catch(null),
});
const Entry = PaperFields.extend({ paper: PaperFields.nullish().catch(null) });
type Fields = z.infer<typeof PaperFields>;

/**
 * Reads a saved Hugging Face daily_papers JSON (a top-level array of entries, or one
 * entry per line) into papers, the same shape page text gives, plus what only JSON
 * knows: the arXiv id, author names, links, comments, keywords and thumbnail.
 * Entries are found without building the whole text (json-entries.ts: nesting and
 * sizes bounded) and parsed one by one. An entry without a title is a problem with
 * its index and line; JSON that is not this shape is rejected with the reason.
 */
export function scanJsonDump(bytes: Buffer, sink: DumpSink, limits: JsonLimits = DEFAULT_JSON_LIMITS): { problems: DumpProblem[]; papers: number } {
  const split = splitJsonEntries(bytes, limits);
  if (split.layout === "object") {
    const value = parseEntry(bytes, split.entries[0]!);
    throw new PapermailError("DUMP_REJECTED", isObject(value) ? "JSON, but an object rather than a list of daily_papers entries (or one entry per line)" : "JSON, but not a list of daily_papers entries");
  }
  // An empty list is a day with nothing listed yet: a valid dump with no papers.
  if (split.entries.length === 0) {
    sink.header("");
    return { problems: [], papers: 0 };
  }
  const problems: DumpProblem[] = [];
  let papers = 0;
  let headerDone = false;
  let firstKind: string | undefined;
  let firstObjectKeys: string[] | undefined;
  let entryShaped = false;
  split.entries.forEach((span, index) => {
    const value = parseEntry(bytes, span);
    const line = span.line;
    firstKind ??= kindOf(value);
    if (!isObject(value)) {
      if (split.layout === "lines") throw new PapermailError("DUMP_REJECTED", `line ${line}: not a daily_papers entry (an object)`, { line });
      return problems.push({ line, message: `entry ${index}: a ${kindOf(value)}, not a daily_papers entry (an object); skipped` });
    }
    firstObjectKeys ??= Object.keys(value).slice(0, 5);
    if ("title" in value || "paper" in value) entryShaped = true;
    const parsed = Entry.safeParse(value);
    if (!parsed.success) return problems.push({ line, message: `entry ${index}: not a paper entry (${parsed.error.issues[0]?.message ?? "wrong shape"}); skipped` });
    const paper = toPaper(parsed.data, line, index, problems);
    if (!paper) return;
    if (!headerDone) {
      sink.header(paper.listDay ?? "");
      headerDone = true;
    }
    papers++;
    sink.paper(paper);
  });
  // Checked once every entry is read: nothing written before is kept when these throw (the caller's transaction).
  if (firstObjectKeys === undefined) throw new PapermailError("DUMP_REJECTED", `JSON, but a list of ${firstKind}s rather than daily_papers entries (objects)`);
  if (!entryShaped) {
    throw new PapermailError("DUMP_REJECTED", `JSON, but an object rather than a list of daily_papers entries (no "title" or "paper"; keys: ${firstObjectKeys.join(", ") || "none"})`);
  }
  if (papers === 0) throw new PapermailError("DUMP_REJECTED", `JSON, but no readable paper entry (first problem: ${problems[0]!.message})`);
  return { problems, papers };
}

/** One entry as a paper, or undefined with the problem recorded. */
function toPaper(e: z.infer<typeof Entry>, line: number, index: number, problems: DumpProblem[]): Paper | undefined {
  const pick = <K extends keyof Fields>(k: K): Fields[K] | null => (e.paper?.[k] ?? e[k] ?? null) as Fields[K] | null;
  const rawTitle = pick("title");
  const title = rawTitle ? oneLine(rawTitle) : null;
  if (!title) return void problems.push({ line, message: `entry ${index}: no title; skipped` });
  const key = paperKey(title);
  if (!isUsableKey(key)) return void problems.push({ line, message: `entry ${index}: title "${title.slice(0, 60)}" has no letters or digits; skipped` });
  const day = isoDay(pick("submittedOnDailyAt"));
  const summary = pick("summary");
  const abstract = summary ? unwrapParagraphs(summary) || null : null;
  const links = abstract ? extractLinks(abstract) : [];
  const authors = (pick("authors") ?? []).map((a) => cleanText(typeof a === "string" ? a : a.name).trim()).filter(Boolean);
  const org = pick("organization");
  const orgHandle = typeof org === "string" ? org : (org?.name ?? null);
  const orgName = typeof org === "string" ? org : (org?.fullname ?? org?.name ?? null);
  const githubRepo = pick("githubRepo");
  const keywords = (pick("ai_keywords") ?? []).map((k) => cleanText(k).trim()).filter(Boolean).slice(0, 50);
  return {
    line,
    key,
    slug: paperSlug(key),
    title,
    abstract,
    authorsCount: authors.length > 0 ? authors.length : null,
    orgHandle: orgHandle ? cleanText(orgHandle) : null,
    orgName: orgName ? cleanText(orgName) : null,
    publishedOn: isoDay(pick("publishedAt")),
    upvotes: pick("upvotes") ?? 0,
    links,
    codeUrl: githubRepo ?? pickCodeLink(links),
    listDay: day,
    arxivId: arxivId(pick("id")),
    authors: authors.length > 0 ? authors : null,
    githubRepo,
    projectPage: pick("projectPage"),
    numComments: pick("numComments"),
    keywords: keywords.length > 0 ? keywords : null,
    thumbnail: pick("thumbnail"),
    summary: oneLine(pick("ai_summary") ?? "") || null,
    githubStars: githubRepo ? pick("githubStars") : null,
    withdrawnAt: isoTime(pick("withdrawnAt") ?? null),
  };
}

/** An ISO time as stored, or null for anything that is not one. */
function isoTime(value: string | null): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What a JSON value is, in words: "string", "number", "list", "null"... */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  return typeof value;
}

/** An arXiv id without its version suffix ("2501.01234v2" -> "2501.01234"), or null. */
export function arxivId(id: string | null | undefined): string | null {
  if (!id) return null;
  const clean = cleanText(id).trim().replace(/v\d+$/, "");
  return /^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?\/\d{7})$/.test(clean) ? clean : null;
}

function isoDay(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  return m && !Number.isNaN(Date.parse(m[1]!)) ? m[1]! : null;
}
