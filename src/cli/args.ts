import { InvalidArgumentError } from "commander";
import { z } from "zod";
import { parseTopics } from "../model/topics.js";

/** commander argument parser from a zod schema: a bad flag value is a usage error (exit 2). */
export function zodArg<T>(schema: z.ZodType<T>) {
  return (value: string): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(r.error.issues[0]?.message ?? "invalid value");
    return r.data;
  };
}

export const positiveInt = zodArg(z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").positive("must be at least 1"));

/** A capture time: a day (taken as noon UTC) or a full timestamp. */
export const captureTime = zodArg(
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, "must be a date such as 2024-12-12 or 2024-12-12T09:30:00Z")
    .transform((v) => new Date(v.length === 10 ? `${v}T12:00:00Z` : v))
    .refine((d) => !Number.isNaN(d.getTime()), "is not a real date"),
);

/** A calendar day as YYYY-MM-DD that exists (2025-02-30 does not). */
export const isoDay = zodArg(
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date such as 2025-01-15")
    .refine((d) => {
      const t = new Date(`${d}T00:00:00Z`);
      return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d);
    }, "is not a real date"),
);

/** Comma-separated topics, checked as a reader's are. */
export const topicsArg = zodArg(
  z.string().transform((v, c) => {
    try {
      return parseTopics(v);
    } catch (err) {
      c.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  }),
);

export const minUpvotesArg = zodArg(z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more"));
