import { z } from "zod";
import { parseTopics } from "./topics.js";

export const CADENCES = ["daily", "weekly"] as const;
export const FORMATS = ["full", "compact"] as const;
export type Cadence = (typeof CADENCES)[number];
export type Format = (typeof FORMATS)[number];

/** What a reader chooses: how often, about what, how popular, how long. */
export interface ReaderChoices {
  cadence: Cadence;
  /** Lower-case topics; none means every paper. */
  topics: string[];
  minUpvotes: number;
  format: Format;
  /** How many of the day's top papers outside their topics a reader with topics sees ("Also trending"; 0: none). */
  alsoTrending: number;
}

/** The most "Also trending" papers a reader may ask for. */
export const MAX_ALSO_TRENDING = 10;

export const DEFAULT_CHOICES: ReaderChoices = { cadence: "daily", topics: [], minUpvotes: 0, format: "full", alsoTrending: 3 };

/** The largest minimum of upvotes accepted: more than any paper has had. */
const MAX_MIN_UPVOTES = 100_000;

/**
 * Choices as they arrive from a form or the command line, all strings, each
 * optional: what is absent stays as it was. Errors name the field.
 */
const CHOICES_INPUT = z.object({
  cadence: z.enum(CADENCES, { error: `must be ${CADENCES.join(" or ")}` }).optional(),
  topics: z
    .string()
    .max(2000, "is too long")
    .transform((value, ctx) => {
      try {
        return parseTopics(value);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  minUpvotes: z
    .string()
    .trim()
    .transform((v) => (v === "" ? "0" : v))
    .pipe(z.string().regex(/^\d{1,6}$/, `must be a whole number from 0 to ${MAX_MIN_UPVOTES}`))
    .transform(Number)
    .pipe(z.number().max(MAX_MIN_UPVOTES, `must be a whole number from 0 to ${MAX_MIN_UPVOTES}`))
    .optional(),
  format: z.enum(FORMATS, { error: `must be ${FORMATS.join(" or ")}` }).optional(),
  alsoTrending: z
    .string()
    .trim()
    .regex(/^\d{1,2}$/, `must be a whole number from 0 to ${MAX_ALSO_TRENDING}`)
    .transform(Number)
    .pipe(z.number().max(MAX_ALSO_TRENDING, `must be a whole number from 0 to ${MAX_ALSO_TRENDING}`))
    .optional(),
});

/** The names a field goes by, for error messages: the form's and the CLI's. */
const FIELD_NAMES: Record<keyof ReaderChoices, Record<ChoicesVia, string>> = {
  cadence: { form: "How often:", flag: "--cadence", query: "cadence:" },
  topics: { form: "Topics:", flag: "--topics", query: "topics:" },
  minUpvotes: { form: "Upvotes:", flag: "--min-upvotes", query: "min_upvotes:" },
  format: { form: "Format:", flag: "--format", query: "format:" },
  alsoTrending: { form: "Also trending:", flag: "--also-trending", query: "also:" },
};

/** Where choices come from: the web form, the command line, or a feed URL's query. */
export type ChoicesVia = "form" | "flag" | "query";

export type ChoicesResult = { ok: true; choices: Partial<ReaderChoices> } | { ok: false; field: keyof ReaderChoices; error: string };

/** Checks choices given as strings; `via` says how fields are named in the error. */
export function parseChoices(input: Partial<Record<keyof ReaderChoices, string | undefined>>, via: ChoicesVia): ChoicesResult {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = CHOICES_INPUT.safeParse(defined);
  if (parsed.success) return { ok: true, choices: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path[0] as keyof ReaderChoices;
  return { ok: false, field, error: `${FIELD_NAMES[field][via]} ${issue.message}` };
}

/** The names of the choice fields in forms and queries: the web form, the console and imports use the same. */
export const FORM_FIELDS: Record<keyof ReaderChoices, string> = {
  cadence: "cadence",
  topics: "topics",
  minUpvotes: "min_upvotes",
  format: "format",
  alsoTrending: "also_trending",
};

/** Choices read from a form by its field names (absent fields stay as they were). */
export function parseFormChoices(get: (name: string) => string | null | undefined, via: ChoicesVia = "form"): ChoicesResult {
  const input = Object.fromEntries(Object.entries(FORM_FIELDS).map(([key, name]) => [key, get(name) ?? undefined]));
  return parseChoices(input, via);
}

/** Choices as stored (one JSON array column for topics). */
export interface StoredChoices {
  cadence: Cadence;
  topics: string;
  minUpvotes: number;
  format: Format;
  alsoTrending: number;
}

export function fromStored(row: StoredChoices): ReaderChoices {
  return { cadence: row.cadence, topics: JSON.parse(row.topics) as string[], minUpvotes: row.minUpvotes, format: row.format, alsoTrending: row.alsoTrending };
}

/**
 * The query that shows a page or feed as a reader with these choices gets it
 * ("?topics=speech,video&min_upvotes=5&also=3"), or "" for every paper.
 */
export function selectionQuery(choices: Pick<ReaderChoices, "topics" | "minUpvotes"> & Partial<Pick<ReaderChoices, "alsoTrending">>): string {
  const q = new URLSearchParams();
  if (choices.topics.length > 0) q.set("topics", choices.topics.join(","));
  if (choices.minUpvotes > 0) q.set("min_upvotes", String(choices.minUpvotes));
  if (choices.topics.length > 0 && choices.alsoTrending !== undefined && choices.alsoTrending !== DEFAULT_CHOICES.alsoTrending) q.set("also", String(choices.alsoTrending));
  const s = q.toString().replace(/%2C/g, ",");
  return s ? `?${s}` : "";
}

/** What in an edition a reader asked for, in words: "papers on speech or diffusion with at least 5 upvotes". */
export function describeSelection(choices: Pick<ReaderChoices, "topics" | "minUpvotes">): string {
  const on = choices.topics.length > 0 ? ` on ${eitherOf(choices.topics)}` : "";
  const upvotes = choices.minUpvotes > 0 ? ` with at least ${choices.minUpvotes} upvote${choices.minUpvotes === 1 ? "" : "s"}` : "";
  return `${on || upvotes ? "papers" : "every paper"}${on}${upvotes}`;
}

/** What a reader gets, in their words: "the daily digest of every paper, in full (summaries, abstracts and links)". */
export function describeChoices(choices: ReaderChoices): string {
  return `the ${choices.cadence} digest of ${describeSelection(choices)}, ${choices.format === "compact" ? "compact (titles and links)" : "in full (summaries, abstracts and links)"}`;
}

/** "a", "a or b", "a, b or c". */
function eitherOf(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

