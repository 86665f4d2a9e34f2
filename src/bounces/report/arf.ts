import { judgeFeedback } from "../classify.js";
import { findAddresses, textOf, type MimeEntity } from "../mime-parts.js";
import type { ReportEntry } from "./entry.js";
import { originalHeaders } from "./evidence.js";
import { fieldBlocks } from "./fields.js";

/** A feedback report's entry for one recipient (or for nobody it names). */
export function feedbackEntry(recipient: string | null, type: string): ReportEntry {
  const { reason, kind } = judgeFeedback(type);
  return { recipient, alternates: [], reason, kind, statusCode: null, detail: `feedback type ${type || "unknown"}` };
}

/** Every recipient of every feedback report in the message. */
export function readArf(parts: MimeEntity[], root: MimeEntity): ReportEntry[] {
  const entries: ReportEntry[] = [];
  for (const part of parts) {
    const f = fieldBlocks(textOf(part))[0] ?? new Map<string, string[]>();
    const type = f.get("feedback-type")?.[0] ?? "";
    const named = (f.get("original-rcpt-to") ?? []).flatMap((v) => findAddresses(v, 1));
    if (named.length === 0) {
      // The quoted original's To, when the report names nobody (and has not redacted it).
      const original = originalHeaders(root);
      named.push(...findAddresses(original?.get("to")?.[0] ?? "", 5));
    }
    if (named.length === 0) entries.push(feedbackEntry(null, type));
    for (const recipient of named) entries.push(feedbackEntry(recipient, type));
  }
  return entries;
}
