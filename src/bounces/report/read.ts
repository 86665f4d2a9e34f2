import { createHash } from "node:crypto";
import { decodeHeader, findAddresses, first, parseMime, textOf, walk, type MimeEntity } from "../mime-parts.js";
import { feedbackEntry, readArf } from "./arf.js";
import { readDsn } from "./dsn.js";
import { DETAIL_LIMIT, MAX_ENTRIES, type ReadReport, type ReportEntry, type ReportShape } from "./entry.js";
import { gatherEvidence } from "./evidence.js";
import { explanationOf } from "./explanation.js";
import { readSes } from "./ses.js";
import { isAutoReply, looksLikeBounce, readTextBounce } from "./text.js";

export type { ReadReport, ReportEntry, ReportEvidence, ReportShape } from "./entry.js";

/**
 * Reads one bounce or feedback message, in linear time whatever it holds: an RFC
 * 3464 delivery status notification, an RFC 5965 (ARF) feedback report (or
 * Hotmail's JMRP shape), an Amazon SES notification, the plain-text bounces of
 * other servers, or an auto-reply. Each recipient gets a reason and a kind
 * (src/model/bounce.ts); anything else is not recognised and says why.
 */
export function readBounceReport(raw: Buffer): ReadReport {
  const root = parseMime(raw);
  const messageId = first(root.headers, "message-id")?.trim();
  const key = messageId ? `mid:${messageId}` : `sha256:${createHash("sha256").update(raw).digest("hex")}`;
  const evidence = gatherEvidence(root);
  const report = (shape: ReportShape, entries: ReportEntry[]): ReadReport => ({ recognised: true, key, shape, entries: entries.slice(0, MAX_ENTRIES), evidence });

  const feedback = [...walk(root)].filter((e) => e.type === "message/feedback-report");
  if (feedback.length > 0) return report("arf", readArf(feedback, root));
  const jmrp = [...walk(root, true)].find((e) => e.headers.has("x-hmxmroriginalrecipient"));
  if (jmrp) return report("arf", [feedbackEntry(findAddresses(first(jmrp.headers, "x-hmxmroriginalrecipient") ?? "")[0] ?? null, "abuse")]);
  if (root.headers.has("x-apple-unsubscribe") || /^list-unsubscribe/i.test(first(root.headers, "x-mailer") ?? "")) {
    return report("arf", [feedbackEntry(null, "opt-out")]);
  }

  const isStatus = (e: MimeEntity) => e.type === "message/delivery-status" || e.type === "message/global-delivery-status";
  // A notification forwarded inside another message counts too.
  const statusPart = [...walk(root)].find(isStatus) ?? [...walk(root, true)].find(isStatus);
  const explanation = explanationOf(root);
  if (statusPart) {
    const entries = readDsn(textOf(statusPart), explanation);
    if (entries.length > 0) return report("dsn", entries);
  }
  // A notification's fields written into its text ("Technical report: ... Final-Recipient: ...").
  if (!statusPart && /^final-recipient:/im.test(explanation) && /^(action|status):/im.test(explanation)) {
    const entries = readDsn(explanation.slice(explanation.search(/^(reporting-mta|final-recipient|original-recipient):/im)), explanation);
    if (entries.length > 0) return report("dsn", entries);
  }
  const ses = readSes(explanation, evidence);
  if (ses) return report("ses", ses);
  if (!statusPart && !looksLikeBounce(root, explanation)) {
    if (isAutoReply(root)) return report("auto-reply", [{ recipient: null, alternates: [], reason: "vacation", kind: "not-a-bounce", statusCode: null, detail: decodeHeader(first(root.headers, "subject")).slice(0, DETAIL_LIMIT) }]);
    return { recognised: false, key, reason: "not a bounce or complaint" };
  }
  const entries = readTextBounce(root, explanation);
  if (entries.length === 0) return { recognised: false, key, reason: "a bounce that says nothing about any recipient" };
  return report(statusPart ? "dsn" : "text", entries);
}
