import { createHash } from "node:crypto";
import { z } from "zod";
import type { BounceKind, BounceReason } from "../model/bounce.js";
import { findCommand, findReplyCode, findStatus, judgeFailure, judgeFeedback } from "./classify.js";
import { decodeHeader, findAddresses, first, parseMime, textOf, walk, type MimeEntity } from "./mime-parts.js";

/** One recipient a report is about, and what it says of them. */
export interface ReportEntry {
  /** The address the report names (Final-Recipient, else Original-Recipient), when it names a usable one. */
  recipient: string | null;
  /** Other addresses the report gives for the same recipient (Original-Recipient behind a Final-Recipient). */
  alternates: string[];
  reason: BounceReason;
  kind: BounceKind;
  /** The enhanced status code (5.1.1), else the reply code (550), when given. */
  statusCode: string | null;
  /** The server's words, short. */
  detail: string;
}

/** What in a report may tie it to a message papermail sent: checked against the secrets and the ledger later. */
export interface ReportEvidence {
  /** Addresses the report was delivered to (To, Delivered-To, X-Original-To, ...): our VERP address, if any. */
  envelope: string[];
  /** Message-IDs of the returned message, and those the report itself refers to. */
  messageIds: string[];
  /** Signed unsubscribe tokens found in the returned message. */
  unsubscribeTokens: string[];
}

export type ReportShape = "dsn" | "arf" | "ses" | "text" | "auto-reply";

export type ReadReport =
  | { recognised: true; key: string; shape: ReportShape; entries: ReportEntry[]; evidence: ReportEvidence }
  | { recognised: false; key: string; reason: string };

/** The server's words kept per entry. */
const DETAIL_LIMIT = 300;
/** How much of a text bounce's explanation is read. */
const EXPLANATION_LIMIT = 8 * 1024;
const MAX_ENTRIES = 100;

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

function feedbackEntry(recipient: string | null, type: string): ReportEntry {
  const { reason, kind } = judgeFeedback(type);
  return { recipient, alternates: [], reason, kind, statusCode: null, detail: `feedback type ${type || "unknown"}` };
}

/** Every recipient of every feedback report in the message. */
function readArf(parts: MimeEntity[], root: MimeEntity): ReportEntry[] {
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

/** RFC 822-style fields per blank-line-separated block (folded lines joined). */
function fieldBlocks(text: string): Array<Map<string, string[]>> {
  const blocks: Array<Map<string, string[]>> = [];
  for (const block of text.slice(0, 512 * 1024).split(/\r?\n[ \t]*\r?\n/)) {
    const fields = new Map<string, string[]>();
    for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0 || colon > 60) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!/^[a-z0-9-]+$/.test(name)) continue;
      const list = fields.get(name);
      const value = line.slice(colon + 1).trim();
      if (list) list.push(value);
      else fields.set(name, [value]);
    }
    if (fields.size > 0) blocks.push(fields);
  }
  return blocks;
}

/**
 * The address of a Final-Recipient or Original-Recipient field ("rfc822; ada@example.org"):
 * null when it is not a plain address (a source route, a %-hack, no domain).
 */
function recipientOf(value: string | undefined): { address: string | null; plain: boolean } {
  if (!value) return { address: null, plain: false };
  const bare = value.replace(/^[^;]*;/, "").trim().replace(/^<|>$/g, "");
  const address = findAddresses(bare, 1)[0] ?? null;
  const plain = address !== null && !/^@|:/.test(bare) && !address.split("@")[0]!.includes("%") && bare.toLowerCase() === address;
  return { address, plain };
}

/** The per-recipient blocks of a delivery status notification. */
function readDsn(statusText: string, explanation: string): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const blocks = fieldBlocks(statusText);
  const everyone = blocks.flatMap((f) => [recipientOf(f.get("final-recipient")?.[0]).address, recipientOf(f.get("original-recipient")?.[0]).address]).filter((a): a is string => a !== null);
  for (const f of blocks) {
    const final = recipientOf(f.get("final-recipient")?.[0]);
    const original = recipientOf(f.get("original-recipient")?.[0] ?? f.get("x-actual-recipient")?.[0]);
    if (!final.address && !original.address && !f.has("action") && !f.has("status")) continue;
    if (!f.has("final-recipient") && !f.has("original-recipient") && !f.has("action")) continue;
    const status = findStatus(f.get("status")?.[0] ?? "") ?? null;
    const action = (f.get("action")?.[0] ?? (status?.startsWith("5") ? "failed" : status?.startsWith("4") ? "delayed" : "")).toLowerCase().trim();
    const diagnostic = (f.get("diagnostic-code")?.[0] ?? "").replace(/^[^;]{0,20};\s*/, "");
    // A source-routed or otherwise odd Final-Recipient leaves the Original-Recipient to name them.
    const recipient = final.plain ? final.address : (original.address ?? final.address);
    const alternates = [final.address, original.address].filter((a): a is string => a !== null && a !== recipient);
    if (action.startsWith("delayed")) {
      entries.push({ recipient, alternates, reason: "delayed", kind: "not-a-bounce", statusCode: status, detail: diagnostic.slice(0, DETAIL_LIMIT) || "delivery delayed" });
      continue;
    }
    if (/^(delivered|relayed|expanded|deliverable)/.test(action) || status?.startsWith("2")) {
      entries.push({ recipient, alternates, reason: "delivered", kind: "not-a-bounce", statusCode: status, detail: action });
      continue;
    }
    if (!action.startsWith("failed") && !status) continue;
    // The human-readable part speaks for a recipient whose block has no diagnostic of its
    // own, and often names the refused command ("in reply to end of DATA command").
    const near = textNear(explanation, recipient, everyone);
    const words = diagnostic || near || explanation;
    const command = findCommand(diagnostic) ?? findCommand(near) ?? (failedCount(statusText) === 1 ? findCommand(explanation) : undefined);
    const judgement = judgeFailure({
      status: status === "5.0.0" || status === "4.0.0" ? (findStatus(diagnostic) ?? status) : status,
      text: words,
      command,
    });
    entries.push({ recipient, alternates, ...judgement, statusCode: status ?? findStatus(words) ?? codeText(findReplyCode(words)), detail: (diagnostic || explanation).replace(/\s+/g, " ").trim().slice(0, DETAIL_LIMIT) });
  }
  // Failures first: a report with any failure is a bounce.
  return entries.some((e) => e.kind !== "not-a-bounce") ? entries.filter((e) => e.kind !== "not-a-bounce") : entries;
}

/** The words of an explanation about one address: from where it is named, up to the next address of `all`. */
function textNear(explanation: string, address: string | null, all: readonly string[] = []): string {
  if (!address) return "";
  const lower = explanation.toLowerCase();
  const at = lower.indexOf(address);
  if (at === -1) return "";
  const others = all.filter((a) => a !== address).map((a) => lower.indexOf(a, at + 1)).filter((i) => i > at);
  return explanation.slice(at, Math.min(at + 1000, ...others));
}

/** How many recipients a delivery status part reports as failed. */
function failedCount(statusText: string): number {
  return (statusText.match(/^action:\s*failed/gim) ?? []).length;
}

function codeText(code: number | undefined): string | null {
  return code === undefined ? null : String(code);
}

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
function readSes(text: string, evidence: ReportEvidence): ReportEntry[] | undefined {
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
          ? { reason: "suppressed" as const, kind: "hard" as const }
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

/** The human-readable text of a report: its first text part outside any attached message, up to the returned message. */
function explanationOf(root: MimeEntity): string {
  for (const entity of walk(root)) {
    if (entity.parts.length > 0 && !entity.type.startsWith("message/")) continue;
    if (entity.type === "text/plain" || entity.type === "text/html") {
      let text = textOf(entity).slice(0, EXPLANATION_LIMIT * 4);
      if (entity.type === "text/html") text = htmlText(text);
      return cutAtOriginal(text).slice(0, EXPLANATION_LIMIT);
    }
    if (entity.type.startsWith("message/")) break;
  }
  return "";
}

/**
 * The words of an HTML bounce: tags, styles and scripts dropped, a few entities undone.
 * One pass with native searches, so that unclosed tags and styles cost no rescans.
 */
export function htmlText(html: string): string {
  const lower = html.toLowerCase();
  let out = "";
  let at = 0;
  while (at < html.length) {
    const lt = html.indexOf("<", at);
    if (lt === -1) {
      out += html.slice(at);
      break;
    }
    out += html.slice(at, lt) + " ";
    const gt = html.indexOf(">", lt + 1);
    if (gt === -1) break; // An unclosed tag: the rest is markup.
    const name = /^<(style|script)\b/.exec(lower.slice(lt, lt + 8))?.[1];
    if (name) {
      const close = lower.indexOf(`</${name}`, gt + 1);
      if (close === -1) break;
      const end = html.indexOf(">", close);
      at = end === -1 ? html.length : end + 1;
    } else at = gt + 1;
  }
  return out.replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Where a bounce starts quoting the returned message: what follows is ours, not the server's words. */
const ORIGINAL_MARKERS = [
  /^-+ ?(this is a copy of|original message|below this line|the original message|start of returned message|returned message|message headers follow|original message headers|headers of the original)/im,
  /^-+[ \t]*(original|returned) (message|mail|headers)/im,
  /^(original message follows|the original message was received at|the message that caused this notification was:|below is a copy of the message|[ \t]*----- transcript of session follows -----)/im,
  /^(Received|Return-Path|DKIM-Signature|Message-ID|X-Papermail-Digest|List-Unsubscribe): /im,
  // Spaces, never line breaks, before a marker: a run of blank lines must not be rescanned from every line.
  /^[ \t]*(message headers follow|original message headers|the headers of your message|your message reads \(in part\))/im,
  /^>[ \t]*(Received|Return-Path|X-[A-Za-z-]+|Message-ID): /im,
];

function cutAtOriginal(text: string): string {
  let end = text.length;
  for (const marker of ORIGINAL_MARKERS) {
    const m = marker.exec(text);
    // The transcript of a session is the server's words: kept.
    if (m && !/transcript of session/i.test(m[0]) && m.index < end && m.index > 0) end = m.index;
  }
  return text.slice(0, end);
}

const BOUNCE_SENDER = /mailer-daemon|post_?master|mail delivery|mail administrator|mail system|mailer daemon/i;
const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (status|failure|failed|has failed|notification|problem|report)|returned (mail|to sender)|failure notice|non.?delivery|not delivered|could not be delivered|mail delivery failed|delivery error|nondeliverable|bounce|rejected|unzustellbar|non remis|no entregado|配信|エラー/i;
const BOUNCE_OPENING = /could not be delivered|couldn't be delivered|wasn't able to deliver|unable to deliver|permanent(ly)? (error|failure|fatal)|delivery (has )?failed|failed permanently|undeliverable|not be delivered|could not deliver|the following address(es)? failed|message could not|returned to sender|delivery to the following|was not delivered|rejected your message|an error occurred while trying to deliver/i;

function looksLikeBounce(root: MimeEntity, explanation: string): boolean {
  const from = decodeHeader(first(root.headers, "from"));
  const subject = decodeHeader(first(root.headers, "subject"));
  return BOUNCE_SENDER.test(from) || BOUNCE_SUBJECT.test(subject) || BOUNCE_OPENING.test(explanation.slice(0, 2000)) || root.headers.has("x-failed-recipients");
}

const AUTO_SUBJECT = /^\s*(auto(matic)?[ -]?(reply|response|antwort)|auto:|out of (the )?office|abwesenheit|réponse automatique|respuesta automática|vacation|away from|自動応答|不在)/i;

/** An out-of-office or other automatic answer (RFC 3834), which is no bounce. */
function isAutoReply(root: MimeEntity): boolean {
  const auto = (first(root.headers, "auto-submitted") ?? "").toLowerCase();
  return (
    auto.startsWith("auto-replied") ||
    root.headers.has("x-autoreply") ||
    root.headers.has("x-autorespond") ||
    /auto[_-]?reply/i.test(first(root.headers, "precedence") ?? "") ||
    AUTO_SUBJECT.test(decodeHeader(first(root.headers, "subject")))
  );
}

const DELAY_WORDS = /has not yet been delivered|will (continue to )?retry|still trying|delivery (has been |is )?delayed|warning: message|temporarily deferred|not been delivered yet|delay(ed)? notification|will be retried/i;

/**
 * A plain-text bounce: the failed addresses (X-Failed-Recipients, else those the
 * explanation names that are not the bounce's own), each judged by the words that
 * follow it, or by the whole explanation.
 */
function readTextBounce(root: MimeEntity, explanation: string): ReportEntry[] {
  const own = new Set(
    ["from", "to", "reply-to", "sender", "return-path"].flatMap((h) => (root.headers.get(h) ?? []).flatMap((v) => findAddresses(v, 5))),
  );
  const originalFrom = findAddresses(originalHeaders(root)?.get("from")?.[0] ?? "", 2);
  for (const a of originalFrom) own.add(a);
  const failed = (root.headers.get("x-failed-recipients") ?? []).flatMap((v) => findAddresses(v, 20));
  // An address only counts with a domain; "ada" alone is never charged to anyone else.
  const named = failed.length ? failed : findAddresses(explanation, 20).filter((a) => !own.has(a) && !/^(mailer-daemon|postmaster)@/i.test(a));
  if (DELAY_WORDS.test(explanation) && !BOUNCE_OPENING.test(explanation)) {
    return [{ recipient: named[0] ?? null, alternates: [], reason: "delayed", kind: "not-a-bounce", statusCode: findStatus(explanation) ?? null, detail: squeeze(explanation) }];
  }
  const judgeNear = (address: string | null): ReportEntry => {
    // The words about this address: up to the next failed address the explanation names.
    const near = textNear(explanation, address, named);
    const words = near && (findStatus(near) || findReplyCode(near.slice(address!.length))) ? near : explanation;
    const judgement = judgeFailure({ text: words, command: findCommand(words) ?? (named.length <= 1 ? findCommand(explanation) : undefined) });
    return { recipient: address, alternates: [], ...judgement, statusCode: findStatus(words) ?? codeText(findReplyCode(words)), detail: squeeze(words) };
  };
  return named.length > 0 ? named.map(judgeNear) : [judgeNear(null)];
}

function squeeze(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, DETAIL_LIMIT);
}

/** The headers of the returned message (message/rfc822, text/rfc822-headers), when attached. */
function originalHeaders(root: MimeEntity): Map<string, string[]> | undefined {
  for (const entity of walk(root)) {
    if ((entity.type === "message/rfc822" || entity.type === "message/global") && entity.parts[0]) return entity.parts[0].headers;
    if (entity.type === "text/rfc822-headers" || entity.type === "message/global-headers") return fieldBlocks(textOf(entity))[0];
  }
  return undefined;
}

/** VERP addresses, Message-IDs and unsubscribe links: what may prove that a report answers our mail. */
function gatherEvidence(root: MimeEntity): ReportEvidence {
  const envelope = ["to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to", "cc"].flatMap((h) =>
    (root.headers.get(h) ?? []).flatMap((v) => findAddresses(v, 10)),
  );
  const messageIds = [...(root.headers.get("in-reply-to") ?? []), ...(root.headers.get("references") ?? [])].flatMap(messageIdsIn);
  const unsubscribeTokens: string[] = [];
  for (const entity of walk(root, true)) {
    if (entity === root) continue;
    for (const v of entity.headers.get("message-id") ?? []) messageIds.push(...messageIdsIn(v));
    for (const v of entity.headers.get("list-unsubscribe") ?? []) unsubscribeTokens.push(...unsubscribeTokensIn(v));
    if (entity.type === "text/rfc822-headers" || entity.type === "message/global-headers" || entity.type.startsWith("text/")) {
      const text = entity.body.slice(0, 1024 * 1024);
      for (const m of text.matchAll(/^Message-ID:[ \t]*(<[^<>\r\n]{1,250}>)/gim)) messageIds.push(m[1]!);
      unsubscribeTokens.push(...unsubscribeTokensIn(text));
    }
  }
  return { envelope, messageIds: [...new Set(messageIds)].slice(0, 50), unsubscribeTokens: [...new Set(unsubscribeTokens)].slice(0, 50) };
}

/**
 * The Message-IDs in a header value: each `<...>`, or the whole (short) value when it
 * is one bare id. Only the first 4 KB is read, and nothing is matched against the whole
 * value: a References header may be as long as its block.
 */
function messageIdsIn(value: string): string[] {
  const head = value.slice(0, 4096);
  const ids = [...head.matchAll(/<([^<>\s]{1,250})>/g)].map((m) => `<${m[1]}>`);
  const bare = head.trim();
  if (ids.length === 0 && bare.length <= 250 && /^[^<>\s@]+@[^<>\s@]+$/.test(bare)) ids.push(`<${bare}>`);
  return ids;
}

/** Tokens of our signed unsubscribe links (DIGEST.SUBSCRIBER.MAC), soft line breaks of quoted-printable undone. */
function unsubscribeTokensIn(text: string): string[] {
  const tokens: string[] = [];
  for (let at = text.indexOf("/unsubscribe/"); at !== -1 && tokens.length < 20; at = text.indexOf("/unsubscribe/", at + 1)) {
    const window = text.slice(at + 13, at + 13 + 120).replace(/=\r?\n/g, "");
    const m = /^([0-9a-z]{1,11}\.[0-9a-z]{1,11}\.[A-Za-z0-9_-]{22})/.exec(window);
    if (m) tokens.push(m[1]!);
  }
  return tokens;
}
