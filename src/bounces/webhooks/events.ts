import { z } from "zod";
import { findStatus, judgeFailure } from "../classify.js";
import { findAddresses } from "../mime-parts.js";
import { feedbackEntry } from "../report/arf.js";
import { DETAIL_LIMIT, MAX_ENTRIES, type ReadReport, type ReportEntry, type ReportEvidence, type ReportShape } from "../report/entry.js";
import { messageIdsIn } from "../report/evidence.js";
import { readSes } from "../report/ses.js";
import { kindOf, type BounceReason } from "../../model/bounce.js";

/**
 * The providers' webhook bodies, read into the same reports a mailed bounce makes
 * (src/bounces/report/): one report per provider event, keyed by the provider's event
 * id so that each counts once. Runs in the bounce reader's worker: strangers can post.
 */

export type WebhookProvider = "ses" | "postmark" | "mailgun" | "sendgrid";
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = ["ses", "postmark", "mailgun", "sendgrid"];

/** The fields of an SNS message that its signature covers (and what papermail needs besides). */
export const SnsEnvelope = z.object({
  Type: z.enum(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1).max(400),
  Subject: z.string().max(1000).optional(),
  Message: z.string(),
  Timestamp: z.string().max(40),
  SignatureVersion: z.enum(["1", "2"]),
  Signature: z.string().min(1).max(2000),
  SigningCertURL: z.string().max(2000),
  SubscribeURL: z.string().max(2000).optional(),
  Token: z.string().max(2000).optional(),
});
export type SnsEnvelope = z.infer<typeof SnsEnvelope>;

export interface MailgunSignature {
  timestamp: string;
  token: string;
  signature: string;
}

/** What a webhook body holds: its reports, and what its verification needs from inside it. */
export interface WebhookRead {
  reports: ReadReport[];
  sns?: SnsEnvelope;
  mailgun?: MailgunSignature;
  /** The body is not what this provider sends: why. */
  error?: string;
}

/** The header papermail adds to each message when Postmark is configured: Postmark returns it as Metadata. */
export const POSTMARK_METADATA_KEY = "papermail";

export function readWebhook(provider: WebhookProvider, body: string): WebhookRead {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return { reports: [], error: `the body is not JSON: ${(err as Error).message}` };
  }
  switch (provider) {
    case "ses":
      return readSns(json);
    case "postmark":
      return readPostmark(json);
    case "mailgun":
      return readMailgun(json);
    case "sendgrid":
      return readSendgrid(json);
  }
}

function str(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function noEvidence(): ReportEvidence {
  return { envelope: [], messageIds: [], unsubscribeTokens: [] };
}

function entry(recipient: unknown, reason: BounceReason, detail: string, statusCode: string | null = null): ReportEntry {
  return { recipient: findAddresses(str(recipient), 1)[0] ?? null, alternates: [], reason, kind: kindOf(reason), statusCode, detail: detail.slice(0, DETAIL_LIMIT) };
}

function report(shape: ReportShape, key: string, entries: ReportEntry[], evidence: ReportEvidence): ReadReport {
  return { recognised: true, key, shape, entries: entries.slice(0, MAX_ENTRIES), evidence };
}

function readSns(json: unknown): WebhookRead {
  const parsed = SnsEnvelope.safeParse(json);
  if (!parsed.success) return { reports: [], error: `not an SNS message: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}` };
  const sns = parsed.data;
  if (sns.Type !== "Notification") return { reports: [], sns };
  const evidence = noEvidence();
  const entries = readSes(sns.Message, evidence);
  if (!entries) return { reports: [{ recognised: false, key: `sns:${sns.MessageId}`, reason: "an SNS notification that is not an SES bounce, complaint or delivery" }], sns };
  return { reports: [report("ses", `sns:${sns.MessageId}`, entries, evidence)], sns };
}

const PostmarkEvent = z.object({
  RecordType: z.string().optional(),
  ID: z.union([z.number(), z.string()]),
  Type: z.string().optional(),
  Email: z.string().optional(),
  Details: z.string().optional(),
  Description: z.string().optional(),
  Metadata: z.record(z.string(), z.unknown()).optional(),
});

/** Postmark's bounce types, as papermail judges them. */
const POSTMARK_TYPES: Record<string, BounceReason> = {
  HardBounce: "userunknown",
  BadEmailAddress: "userunknown",
  DnsError: "hostunknown",
  AddressChange: "hasmoved",
  SoftBounce: "mailboxfull",
  Transient: "delayed",
  AutoResponder: "vacation",
  SpamNotification: "spamdetected",
  Blocked: "blocked",
  // Postmark will not send to the address: its own list, not the reader's answer.
  ManuallyDeactivated: "suppressed",
  InactiveRecipient: "suppressed",
  ChallengeVerification: "vacation",
  Unknown: "undefined",
};

function readPostmark(json: unknown): WebhookRead {
  const parsed = PostmarkEvent.safeParse(json);
  if (!parsed.success) return { reports: [], error: "not a Postmark webhook event (no ID)" };
  const e = parsed.data;
  const evidence = noEvidence();
  evidence.messageIds.push(...messageIdsIn(str(e.Metadata?.[POSTMARK_METADATA_KEY])));
  const key = `postmark:${e.RecordType ?? "Bounce"}:${str(e.ID)}`;
  const detail = `${e.Description ?? ""} ${e.Details ?? ""}`.trim();
  if (e.RecordType === "SpamComplaint" || e.Type === "SpamComplaint") return { reports: [report("postmark", key, [feedbackEntry(findAddresses(str(e.Email), 1)[0] ?? null, "abuse")], evidence)] };
  if (e.RecordType !== undefined && e.RecordType !== "Bounce") return { reports: [report("postmark", key, [entry(e.Email, "delivered", `Postmark ${e.RecordType} event`)], evidence)] };
  const type = e.Type ?? "Unknown";
  let reason = POSTMARK_TYPES[type] ?? "undefined";
  // A hard or soft bounce's own words may say more (a refusal of our side, a full mailbox).
  if (type === "HardBounce" || type === "SoftBounce" || type === "Unknown") {
    const judged = judgeFailure({ status: findStatus(detail) ?? (type === "SoftBounce" ? "4.0.0" : type === "HardBounce" ? "5.0.0" : null), text: detail });
    if (judged.reason !== "undefined") reason = judged.reason;
  }
  return { reports: [report("postmark", key, [entry(e.Email, reason, detail || `Postmark ${type}`)], evidence)] };
}

const MailgunBody = z.object({
  signature: z.object({ timestamp: z.union([z.string(), z.number()]).transform(String), token: z.string().max(200), signature: z.string().max(200) }),
  "event-data": z.object({
    id: z.string().min(1).max(200),
    event: z.string(),
    severity: z.string().optional(),
    reason: z.string().optional(),
    recipient: z.string().optional(),
    "delivery-status": z.object({ code: z.unknown(), message: z.unknown(), description: z.unknown(), "enhanced-code": z.unknown() }).partial().optional(),
    message: z.object({ headers: z.record(z.string(), z.unknown()).optional() }).optional(),
  }),
});

function readMailgun(json: unknown): WebhookRead {
  const parsed = MailgunBody.safeParse(json);
  if (!parsed.success) return { reports: [], error: `not a Mailgun webhook: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}` };
  const { signature, "event-data": e } = parsed.data;
  const evidence = noEvidence();
  evidence.messageIds.push(...messageIdsIn(str(e.message?.headers?.["message-id"])));
  const key = `mailgun:${e.id}`;
  const status = e["delivery-status"] ?? {};
  const detail = `${str(status.message)} ${str(status.description)}`.trim();
  let reason: BounceReason;
  if (e.event === "complained") return { reports: [report("mailgun", key, [feedbackEntry(findAddresses(str(e.recipient), 1)[0] ?? null, "abuse")], evidence)], mailgun: signature };
  if (e.event === "failed" && e.severity === "temporary") reason = "delayed";
  else if (e.event === "failed" && e.reason?.startsWith("suppress-")) reason = "suppressed";
  else if (e.event === "failed" && e.reason === "espblock") reason = "blocked";
  else if (e.event === "failed") {
    const code = str(status["enhanced-code"]) || null;
    reason = judgeFailure({ status: code ?? findStatus(detail) ?? "5.0.0", replyCode: Number(status.code) || undefined, text: detail }).reason;
  } else reason = "delivered";
  return { reports: [report("mailgun", key, [entry(e.recipient, reason, detail || `Mailgun ${e.event} (${e.reason ?? e.severity ?? ""})`, findStatus(str(status["enhanced-code"])) ?? null)], evidence)], mailgun: signature };
}

const SendgridEvent = z.object({
  sg_event_id: z.string().min(1).max(200),
  event: z.string(),
  email: z.string().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  status: z.string().optional(),
  "smtp-id": z.string().optional(),
});

function readSendgrid(json: unknown): WebhookRead {
  if (!Array.isArray(json)) return { reports: [], error: "not a SendGrid event batch (an array of events)" };
  const reports: ReadReport[] = [];
  for (const [i, raw] of json.slice(0, 5000).entries()) {
    const parsed = SendgridEvent.safeParse(raw);
    if (!parsed.success) {
      reports.push({ recognised: false, key: `sendgrid:invalid:${i}`, reason: `event ${i}: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}` });
      continue;
    }
    const e = parsed.data;
    const evidence = noEvidence();
    evidence.messageIds.push(...messageIdsIn(str(e["smtp-id"])));
    const key = `sendgrid:${e.sg_event_id}`;
    const detail = (e.reason ?? "").trim();
    let reason: BounceReason;
    if (e.event === "spamreport") {
      reports.push(report("sendgrid", key, [feedbackEntry(findAddresses(str(e.email), 1)[0] ?? null, "abuse")], evidence));
      continue;
    }
    if (e.event === "bounce" && e.type === "blocked") reason = "blocked";
    else if (e.event === "bounce") reason = judgeFailure({ status: findStatus(str(e.status)) ?? findStatus(detail) ?? "5.0.0", text: detail }).reason;
    // Dropped: SendGrid did not try (its suppression lists, an invalid header): our side, not the reader.
    else if (e.event === "dropped") reason = /invalid|spam content/i.test(detail) ? "contenterror" : "suppressed";
    else if (e.event === "deferred") reason = "delayed";
    else reason = "delivered";
    reports.push(report("sendgrid", key, [entry(e.email, reason, detail || `SendGrid ${e.event}`, findStatus(str(e.status)) ?? null)], evidence));
  }
  return { reports };
}
