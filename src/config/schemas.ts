import { existsSync, readFileSync } from "node:fs";
import { validate as validateCron } from "node-cron";
import { z } from "zod";
import { isValidAddress } from "../model/address.js";
import { isHttpUrl } from "../model/links.js";
import { parseFrom } from "../render/from.js";

/** The kinds of value a setting holds, each checked from the text of an environment variable. */

/** A PEM certificate file, read once: its text, or an issue naming what is wrong. */
export const pemFile = z.string().transform((file, c) => {
  const text = readFileSafe(file);
  if (text === undefined) c.addIssue({ code: "custom", message: "file does not exist or cannot be read" });
  else if (!/-----BEGIN CERTIFICATE-----/.test(text)) c.addIssue({ code: "custom", message: "is not a PEM certificate file (no BEGIN CERTIFICATE line)" });
  return text ?? "";
});
export const bool = z.enum(["true", "false", "1", "0"], { error: "must be true or false" }).transform((v) => v === "true" || v === "1");
export const cron = z.string().refine((v) => validateCron(v), "must be a cron expression of 5 or 6 fields, e.g. '*/10 * * * *'");
export const int = (min: number, max: number) =>
  z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
export const httpUrl = z.string().refine(isHttpUrl, "must be an http:// or https:// URL");
export const address = z.string().refine(isValidAddress, "must be an email address");
export const existingFile = z.string().refine(existsSync, "file does not exist");
/** A list separated by commas, each item checked by `item`. */
export const list = <T>(item: z.ZodType<T, string>) =>
  z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(item));

export function canParseUrl(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function isValidFrom(v: string): boolean {
  if (/[\r\n]/.test(v)) return false;
  const { address: a } = parseFrom(v);
  return isValidAddress(a);
}

export function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
