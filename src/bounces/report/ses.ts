import { z } from "zod";
import { findStatus, judgeFailure } from "../classify.js";
import { findAddresses } from "../mime-parts.js";
import { feedbackEntry } from "./arf.js";
import { DETAIL_LIMIT, type ReportEntry, type ReportEvidence } from "./entry.js";
import { messageIdsIn, unsubscribeTokensIn } from "./evidence.js";

/** The fields of an SES notification papermail reads; anything may be missing or of another type. */
const SesNotification = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  bounce: z
    .object({
      bounceType: z.string().optional(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(z.object({ emailAddress: z.unknown(), status: z.unknown(), diagnosticCode: z.unknown() }).partial()).optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(z.object({ emailAddress: z.unknown() }).partial()).optional(),
      complaintFeedbackType: z.unknown(),
    })
    .optional(),
  mail: z
    .object({
      commonHeaders: z.object({ messageId: z.unknown() }).partial().optional(),
      headers: z.array(z.object({ name: z.unknown(), value: z.unknown() }).partial()).optional(),
    })
    .partial()
    .optional(),
});

/** A value from JSON as text: a number, or anything else, is never trusted to be a string. */
function str(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

/** An Amazon SES bounce or complaint notification delivered by email (its SNS JSON), checked with zod. */
export function readSes(text: string, evidence: ReportEvidence): ReportEntry[] | undefined {
  if (!/notificationType|eventType/.test(text)) return undefined;
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start === -1 || end <= start) return undefined;
  let json: unknown;
  try {
    // Long lines come folded with "!" by some mail servers on the way (sendmail's line limit).
    json = JSON.parse(text.slice(start, end + 1).replace(/!\r?\n /g, ""));
    // An SNS envelope carries the notification as a string in Message.
    if (json && typeof json === "object" && typeof (json as { Message?: unknown }).Message === "string") json = JSON.parse((json as { Message: string }).Message);
  } catch {
    return undefined;
  }
  const parsed = SesNotification.safeParse(json);
  if (!parsed.success) return undefined;
  const n = parsed.data;
  const type = n.notificationType ?? n.eventType;
  const mid = str(n.mail?.commonHeaders?.messageId);
  if (mid) evidence.messageIds.push(...messageIdsIn(mid));
  for (const h of n.mail?.headers ?? []) {
    const name = str(h.name).toLowerCase();
    if (name === "message-id") evidence.messageIds.push(...messageIdsIn(str(h.value)));
    if (name === "list-unsubscribe") evidence.unsubscribeTokens.push(...unsubscribeTokensIn(str(h.value)));
  }
  if (type === "Bounce" && n.bounce) {
    const permanent = n.bounce.bounceType === "Permanent";
    return (n.bounce.bouncedRecipients ?? []).map((r) => {
      const status = findStatus(str(r.status)) ?? null;
      const words = `${str(r.diagnosticCode)} ${n.bounce!.bounceSubType ?? ""}`.trim();
      // SES's own word for an address it will not send to again.
      const judgement =
        n.bounce!.bounceSubType === "Suppressed" || n.bounce!.bounceSubType === "OnAccountSuppressionList"
          ? { reason: "suppressed" as const, kind: "sender" as const }
          : judgeFailure({ status: status ?? (permanent ? null : "4.0.0"), text: words });
      return { recipient: findAddresses(str(r.emailAddress), 1)[0] ?? null, alternates: [], ...judgement, statusCode: status, detail: words.slice(0, DETAIL_LIMIT) || `SES ${n.bounce!.bounceType ?? ""} bounce` };
    });
  }
  if (type === "Complaint" && n.complaint) {
    const feedbackType = str(n.complaint.complaintFeedbackType);
    const recipients = (n.complaint.complainedRecipients ?? []).map((r) => findAddresses(str(r.emailAddress), 1)[0] ?? null);
    return (recipients.length ? recipients : [null]).map((recipient) => feedbackEntry(recipient, feedbackType));
  }
  if (type === "Delivery") return [{ recipient: null, alternates: [], reason: "delivered", kind: "not-a-bounce", statusCode: null, detail: "SES delivery notice" }];
  return undefined;
}
