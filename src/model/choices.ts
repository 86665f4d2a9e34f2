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
}

export const DEFAULT_CHOICES: ReaderChoices = { cadence: "daily", topics: [], minUpvotes: 0, format: "full" };

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
});

/** The names a field goes by, for error messages: the form's and the CLI's. */
const FIELD_NAMES: Record<keyof ReaderChoices, Record<ChoicesVia, string>> = {
  cadence: { form: "How often:", flag: "--cadence", query: "cadence:" },
  topics: { form: "Topics:", flag: "--topics", query: "topics:" },
  minUpvotes: { form: "Upvotes:", flag: "--min-upvotes", query: "min_upvotes:" },
  format: { form: "Format:", flag: "--format", query: "format:" },
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

/** Choices as stored (one JSON array column for topics). */
export interface StoredChoices {
  cadence: Cadence;
  topics: string;
  minUpvotes: number;
  format: Format;
}

export function fromStored(row: StoredChoices): ReaderChoices {
  return { cadence: row.cadence, topics: JSON.parse(row.topics) as string[], minUpvotes: row.minUpvotes, format: row.format };
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

