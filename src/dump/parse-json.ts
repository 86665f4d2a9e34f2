import { z } from "zod";
import { PapermailError } from "../errors.js";
import { cleanText, oneLine, unwrapParagraphs } from "./clean-text.js";
import { extractLinks, isHttpUrl, pickCodeLink } from "./links.js";
import { isUsableKey, paperKey, paperSlug } from "./paper-key.js";
import type { DumpProblem, DumpSink, Paper } from "./parse.js";

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
});
const Entry = PaperFields.extend({ paper: PaperFields.nullish().catch(null) });
type Fields = z.infer<typeof PaperFields>;

/**
 * Reads a saved Hugging Face daily_papers JSON (a top-level array of entries, or one
 * entry per line) into papers, the same shape page text gives, plus what only JSON
 * knows: the arXiv id, author names, links, comments, keywords and thumbnail.
 * An entry without a title is a problem with its index; JSON that is not this shape
 * is rejected with the reason.
 */
export function scanJsonDump(bytes: Buffer, sink: DumpSink): { problems: DumpProblem[]; papers: number } {
  const entries = readEntries(bytes.toString("utf8"));
  // An empty list is a day with nothing listed yet: a valid dump with no papers.
  if (entries.length === 0) {
    sink.header("");
    return { problems: [], papers: 0 };
  }
  const objects = entries.filter((e) => isObject(e.value));
  if (objects.length === 0) {
    throw new PapermailError("DUMP_REJECTED", `JSON, but a list of ${kindOf(entries[0]!.value)}s rather than daily_papers entries (objects)`);
  }
  if (objects.every((e) => !("title" in (e.value as object)) && !("paper" in (e.value as object)))) {
    const keys = Object.keys(objects[0]!.value as object).slice(0, 5).join(", ");
    throw new PapermailError("DUMP_REJECTED", `JSON, but an object rather than a list of daily_papers entries (no "title" or "paper"; keys: ${keys || "none"})`);
  }
  const problems: DumpProblem[] = [];
  let papers = 0;
  let headerDone = false;
  entries.forEach(({ value, line }, index) => {
    if (!isObject(value)) return problems.push({ line, message: `entry ${index}: a ${kindOf(value)}, not a daily_papers entry (an object); skipped` });
    const parsed = Entry.safeParse(value);
    if (!parsed.success) return problems.push({ line, message: `entry ${index}: not a paper entry (${parsed.error.issues[0]?.message ?? "wrong shape"}); skipped` });
    const e = parsed.data;
    const pick = <K extends keyof Fields>(k: K): Fields[K] | null => (e.paper?.[k] ?? e[k] ?? null) as Fields[K] | null;
    const rawTitle = pick("title");
    const title = rawTitle ? oneLine(rawTitle) : null;
    if (!title) return problems.push({ line, message: `entry ${index}: no title; skipped` });
    const key = paperKey(title);
    if (!isUsableKey(key)) return problems.push({ line, message: `entry ${index}: title "${title.slice(0, 60)}" has no letters or digits; skipped` });
    const day = isoDay(pick("submittedOnDailyAt"));
    if (!headerDone) {
      sink.header(day ?? "");
      headerDone = true;
    }
    const summary = pick("summary");
    const abstract = summary ? unwrapParagraphs(summary) || null : null;
    const links = abstract ? extractLinks(abstract) : [];
    const authors = (pick("authors") ?? []).map((a) => cleanText(typeof a === "string" ? a : a.name).trim()).filter(Boolean);
    const org = pick("organization");
    const orgHandle = typeof org === "string" ? org : (org?.name ?? null);
    const orgName = typeof org === "string" ? org : (org?.fullname ?? org?.name ?? null);
    const githubRepo = pick("githubRepo");
    const keywords = (pick("ai_keywords") ?? []).map((k) => cleanText(k).trim()).filter(Boolean).slice(0, 50);
    const paper: Paper = {
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
    };
    papers++;
    sink.paper(paper);
  });
  if (papers === 0) throw new PapermailError("DUMP_REJECTED", `JSON, but no readable paper entry (first problem: ${problems[0]!.message})`);
  return { problems, papers };
}

/** The entries of a JSON array, or of JSON Lines; the reason when the text is neither. */
function readEntries(source: string): Array<{ value: unknown; line: number }> {
  const trimmed = source.replace(/^\uFEFF/, "").trimStart();
  if (trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      throw new PapermailError("DUMP_REJECTED", `not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(value)) throw new PapermailError("DUMP_REJECTED", "JSON, but not a list of daily_papers entries");
    return value.map((v) => ({ value: v, line: 1 }));
  }
  const out: Array<{ value: unknown; line: number }> = [];
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      out.push({ value: JSON.parse(line), line: i + 1 });
    } catch {
      // A single object spread over lines is one entry, not JSON Lines.
      if (out.length === 0 && i === 0) {
        try {
          const whole = JSON.parse(source);
          if (whole && typeof whole === "object" && !Array.isArray(whole)) {
            throw new PapermailError("DUMP_REJECTED", "JSON, but an object rather than a list of daily_papers entries (or one entry per line)");
          }
        } catch (err) {
          if (err instanceof PapermailError) throw err;
        }
      }
      throw new PapermailError("DUMP_REJECTED", `line ${i + 1}: not valid JSON (expected one daily_papers entry per line)`, { line: i + 1 });
    }
  }
  for (const e of out) {
    if (!e.value || typeof e.value !== "object" || Array.isArray(e.value)) throw new PapermailError("DUMP_REJECTED", `line ${e.line}: not a daily_papers entry (an object)`, { line: e.line });
  }
  return out;
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
