import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { parseFormChoices, type ChoicesResult, type ReaderChoices } from "../model/choices.js";
import { readForm } from "./http.js";
import { choicesView } from "./pages.js";

/** A reader's choices as a form sends them (checked by parseChoices). */
const CHOICE_FIELDS = {
  cadence: z.string().max(20).optional(),
  topics: z.string().max(2000, "the topics are too long").optional(),
  min_upvotes: z.string().max(20).optional(),
  format: z.string().max(20).optional(),
  also_trending: z.string().max(20).optional(),
};
const CHOICES_FORM = z.object(CHOICE_FIELDS);

/** The subscribe form: an address field, the honeypot and the optional choices. */
export const SUBSCRIBE_FORM = z.object({
  email: z.string().max(320, "the address is too long").default(""),
  website: z.string().max(2000).default(""),
  ...CHOICE_FIELDS,
});

export type ChoiceFields = z.infer<typeof CHOICES_FORM>;

export function readChoices(form: ChoiceFields): ChoicesResult {
  return parseFormChoices((name) => form[name as keyof ChoiceFields]);
}

/** The choices a page's form posted, checked; on error, the sentence to show and what was sent. */
export async function postedChoices(req: IncomingMessage): Promise<{ ok: true; choices: Partial<ReaderChoices> } | { ok: false; error: string; sent?: ChoiceFields }> {
  const form = CHOICES_FORM.safeParse(Object.fromEntries(await readForm(req)));
  if (!form.success) return { ok: false, error: `That form is not valid: ${form.error.issues[0]!.message}.` };
  const result = readChoices(form.data);
  return result.ok ? result : { ok: false, error: `${result.error}.`, sent: form.data };
}

/** What a form sent, to show again next to its error. */
export function sentChoices(form: ChoiceFields, fallback: ReaderChoices) {
  return choicesView({
    cadence: form.cadence === "weekly" ? "weekly" : form.cadence === "daily" ? "daily" : fallback.cadence,
    format: form.format === "compact" ? "compact" : form.format === "full" ? "full" : fallback.format,
    topics: form.topics ?? fallback.topics,
    minUpvotes: form.min_upvotes ?? fallback.minUpvotes,
    alsoTrending: form.also_trending ?? fallback.alsoTrending,
  });
}
