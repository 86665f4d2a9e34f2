import { createHash } from "node:crypto";
import { simpleParser, type ParsedMail } from "mailparser";
import { readUnsubscribeToken } from "../util/tokens.js";
import { readVerpAddress } from "./verp.js";

/** One recipient a bounce or complaint is about. */
export interface ReportEntry {
  /** The address the report names, when it names one. */
  recipient: string | null;
  /** Digest and subscriber from our VERP envelope or our unsubscribe link: the reliable way. */
  verp: { digestId: number; subscriberId: number } | null;
  digestId: number | null;
  kind: "hard" | "soft" | "complaint";
  statusCode: string | null;
  detail: string;
}

export type ReadReport =
  | { recognised: true; key: string; shape: "dsn" | "arf" | "text" | "ses"; entries: ReportEntry[] }
  | { recognised: false; key: string; reason: string };

/**
 * Reads one bounce or complaint message: an RFC 3464 delivery status notification,
 * an RFC 5965 (ARF) feedback report, an Amazon SES notification, or the plain-text
 * bounces of common servers (Exim, qmail, Gmail, Yahoo, Outlook). Anything else is
 * not recognised and says why: it is never guessed at.
 */
export async function readBounceReport(raw: Buffer, secrets: readonly string[]): Promise<ReadReport> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextLinks: true });
  } catch (err) {
    return { recognised: false, key: contentKey(raw), reason: `not a readable email: ${(err as Error).message}` };
  }
  const key = mail.messageId ? `mid:${mail.messageId.trim()}` : contentKey(raw);
  const verp = findVerp(raw, mail, secrets);
  const parts = mail.attachments ?? [];
  const find = (type: string) => parts.find((a) => a.contentType.toLowerCase() === type);
  const original = find("message/rfc822") ?? find("text/rfc822-headers");
  const originalText = original ? original.content.toString("utf8") : "";
  const digestId = verp?.digestId ?? digestOf(originalText);
  const fromOriginal = verp ?? unsubscribeTarget(originalText, secrets);

  const feedback = find("message/feedback-report");
  if (feedback) return readArf(key, feedback.content.toString("utf8"), originalText, fromOriginal, digestId);
  const status = find("message/delivery-status");
  if (status) return readDsn(key, status.content.toString("utf8"), verp, digestId);
  const text = (mail.text ?? "").slice(0, 200_000);
  const ses = readSes(key, text, verp, digestId);
  if (ses) return ses;
  return readText(key, text, mail, verp, digestId);
}

function contentKey(raw: Buffer): string {
  return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}

/** Our VERP address among the headers that name where a bounce was delivered. */
function findVerp(raw: Buffer, mail: ParsedMail, secrets: readonly string[]): ReportEntry["verp"] {
  const head = raw.subarray(0, Math.min(raw.length, 64 * 1024)).toString("latin1").split(/\r?\n\r?\n/)[0] ?? "";
  for (const m of head.matchAll(/[A-Za-z0-9._%+-]+\+[0-9a-z]{1,11}\.[0-9a-z]{1,11}\.[0-9a-f]{16}@[A-Za-z0-9.-]+/gi)) {
    const found = readVerpAddress(secrets, m[0]);
    if (found) return found;
  }
  const to = [mail.to].flat().flatMap((a) => a?.value ?? []).map((v) => v.address ?? "");
  for (const address of to) {
    const found = readVerpAddress(secrets, address);
    if (found) return found;
  }
  return null;
}

/** The X-Papermail-Digest of the original message quoted in a report. */
function digestOf(original: string): number | null {
  const m = /^X-Papermail-Digest:\s*(\d+)/im.exec(original);
  return m ? Number(m[1]) : null;
}

/** The digest and subscriber our signed unsubscribe link in the quoted original names. */
function unsubscribeTarget(original: string, secrets: readonly string[]): ReportEntry["verp"] {
  const m = /\/unsubscribe\/([0-9a-z]{1,11}\.[0-9a-z]{1,11}\.[A-Za-z0-9_-]{22})/.exec(original.replace(/=\r?\n/g, ""));
  if (!m) return null;
  return readUnsubscribeToken(secrets, m[1]!) ?? null;
}

/** Header-style fields (RFC 822 syntax, folded lines joined) of a block of text. */
function fields(block: string): Map<string, string> {
  const out = new Map<string, string>();
  const unfolded = block.replace(/\r?\n[ \t]+/g, " ");
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m && !out.has(m[1]!.toLowerCase())) out.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return out;
}

/** An address field such as "rfc822; ada@example.org" or "<ada@example.org>". */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const m = /([^\s<>;"]+@[^\s<>;"]+)/.exec(value);
  return m ? m[1]!.toLowerCase() : null;
}

function readDsn(key: string, body: string, verp: ReportEntry["verp"], digestId: number | null): ReadReport {
  const blocks = body.split(/\r?\n\s*\r?\n/).map(fields).filter((f) => f.size > 0);
  const entries: ReportEntry[] = [];
  for (const f of blocks.slice(1).length ? blocks.slice(1) : blocks) {
    const action = (f.get("action") ?? "").toLowerCase();
    const status = /([245])\.\d{1,3}\.\d{1,3}/.exec(f.get("status") ?? "")?.[0] ?? null;
    const recipient = addressOf(f.get("final-recipient")) ?? addressOf(f.get("original-recipient"));
    if (!recipient && !verp) continue;
    // Only a failure is a bounce: "delayed" is a warning, "delivered" and "relayed" are news.
    if (action !== "failed") continue;
    const kind = status?.startsWith("4") ? "soft" : "hard";
    entries.push({ recipient, verp, digestId, kind, statusCode: status, detail: f.get("diagnostic-code") ?? `Action: ${action}, Status: ${status ?? "?"}` });
  }
  if (entries.length === 0) {
    const actions = blocks.map((f) => f.get("action")).filter(Boolean);
    return { recognised: false, key, reason: `a delivery status notification with no failed recipient (actions: ${actions.join(", ") || "none"}): not a bounce` };
  }
  return { recognised: true, key, shape: "dsn", entries };
}

function readArf(key: string, body: string, original: string, target: ReportEntry["verp"], digestId: number | null): ReadReport {
  const f = fields(body);
  const type = (f.get("feedback-type") ?? "").toLowerCase();
  if (type === "not-spam") return { recognised: false, key, reason: "a feedback report of type not-spam: nothing to act on" };
  const recipient = addressOf(f.get("original-rcpt-to")) ?? addressOf(/^To:\s*(.*)$/im.exec(original)?.[1]);
  if (!recipient && !target) return { recognised: false, key, reason: "a feedback report that names no recipient (no Original-Rcpt-To, no quoted To)" };
  return { recognised: true, key, shape: "arf", entries: [{ recipient, verp: target, digestId, kind: "complaint", statusCode: null, detail: `feedback type ${type || "unknown"}` }] };
}

/** An Amazon SES bounce or complaint notification delivered by email (the SNS JSON). */
function readSes(key: string, text: string, verp: ReportEntry["verp"], digestId: number | null): ReadReport | undefined {
  const start = text.indexOf("{");
  if (start === -1 || !text.includes('"notificationType"')) return undefined;
  let n: {
    notificationType?: string;
    bounce?: { bounceType?: string; bouncedRecipients?: Array<{ emailAddress?: string; status?: string; diagnosticCode?: string }> };
    complaint?: { complainedRecipients?: Array<{ emailAddress?: string }>; complaintFeedbackType?: string };
  };
  try {
    n = JSON.parse(text.slice(start, text.lastIndexOf("}") + 1));
  } catch {
    return undefined;
  }
  if (n.notificationType === "Bounce" && n.bounce) {
    const kind = n.bounce.bounceType === "Permanent" ? "hard" : "soft";
    const entries = (n.bounce.bouncedRecipients ?? []).map((r) => ({
      recipient: addressOf(r.emailAddress),
      verp,
      digestId,
      kind,
      statusCode: r.status ?? null,
      detail: r.diagnosticCode ?? `SES ${n.bounce!.bounceType} bounce`,
    })) satisfies ReportEntry[];
    return entries.length ? { recognised: true, key, shape: "ses", entries } : undefined;
  }
  if (n.notificationType === "Complaint" && n.complaint) {
    const entries = (n.complaint.complainedRecipients ?? []).map((r) => ({
      recipient: addressOf(r.emailAddress),
      verp,
      digestId,
      kind: "complaint" as const,
      statusCode: null,
      detail: `SES complaint ${n.complaint!.complaintFeedbackType ?? ""}`.trim(),
    }));
    return entries.length ? { recognised: true, key, shape: "ses", entries } : undefined;
  }
  return undefined;
}

/** Openings of the plain-text bounces big servers send, and whether they mean a permanent failure. */
const TEXT_SHAPES: Array<{ re: RegExp; permanent: boolean | "by-code" }> = [
  { re: /Delivery to the following recipients? failed permanently/i, permanent: true }, // Gmail
  { re: /This is a permanent error\. The following address\(es\) failed/i, permanent: true }, // Exim
  { re: /could not be delivered to one or more of its\s+recipients\. This is a permanent error/i, permanent: true }, // Exim
  { re: /Delivery has failed to these recipients or groups/i, permanent: true }, // Outlook / Exchange
  { re: /This is the qmail-send program/i, permanent: "by-code" }, // qmail
  { re: /Sorry, we were unable to deliver your message to the following address/i, permanent: "by-code" }, // Yahoo
  { re: /I'm afraid I wasn't able to deliver your message to the following addresses/i, permanent: "by-code" }, // qmail variants
  { re: /Delivery to the following recipients? has been delayed/i, permanent: false }, // Gmail, a warning
];

function readText(key: string, text: string, mail: ParsedMail, verp: ReportEntry["verp"], digestId: number | null): ReadReport {
  const from = [mail.from?.value ?? []].flat().map((v) => v.address ?? "").join(" ");
  const shape = TEXT_SHAPES.find((s) => s.re.test(text));
  if (!shape) {
    const looksLikeBounce = /mailer-daemon|postmaster/i.test(from) || /undeliver|returned mail|delivery status/i.test(mail.subject ?? "");
    return { recognised: false, key, reason: looksLikeBounce ? "a bounce in a shape papermail does not know" : "not a bounce or complaint" };
  }
  if (shape.permanent === false) return { recognised: false, key, reason: "a delay warning, not a bounce" };
  const code = /\b([45])\d\d[ -]([45]\.\d{1,3}\.\d{1,3})?/.exec(text);
  const enhanced = /\b([45]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? null;
  let kind: ReportEntry["kind"];
  if (shape.permanent === true) kind = "hard";
  else if (enhanced) kind = enhanced.startsWith("5") ? "hard" : "soft";
  else if (code) kind = code[1] === "5" ? "hard" : "soft";
  else return { recognised: false, key, reason: "a bounce that gives no SMTP code: permanent or temporary cannot be told" };
  // The failed address: the first one after the opening that is not the bounce's own.
  const after = text.slice(text.search(shape.re));
  const recipient = addressOf(/<?([^\s<>;"()]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?/.exec(after)?.[1]);
  if (!recipient && !verp) return { recognised: false, key, reason: "a bounce that names no recipient" };
  return { recognised: true, key, shape: "text", entries: [{ recipient, verp, digestId, kind, statusCode: enhanced ?? code?.[0]?.trim() ?? null, detail: after.slice(0, 300).replace(/\s+/g, " ").trim() }] };
}
