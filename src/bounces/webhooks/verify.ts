import { createHmac, verify as verifySignature, X509Certificate } from "node:crypto";
import { sameSecret } from "../../util/tokens.js";
import type { KeyObject } from "node:crypto";
import type { MailgunSignature, SnsEnvelope } from "./events.js";

/**
 * Each provider's way of proving that a webhook request is theirs and fresh. A check
 * answers undefined when the request passes, else why not and the status to answer:
 * 401 when the proof is missing, 403 when it is wrong or stale.
 */
export interface Refusal {
  status: 401 | 403;
  reason: string;
}

function staleness(signedAtMs: number, nowMs: number, maxAgeMinutes: number): Refusal | undefined {
  if (!Number.isFinite(signedAtMs)) return { status: 403, reason: "the signature's time cannot be read" };
  const age = (nowMs - signedAtMs) / 60_000;
  if (age > maxAgeMinutes) return { status: 403, reason: `signed ${Math.round(age)} minutes ago, more than PAPERMAIL_WEBHOOK_MAX_AGE_MINUTES (${maxAgeMinutes}): stale or replayed` };
  // A clock a little ahead is tolerated; far ahead is not a real signature time.
  if (age < -5) return { status: 403, reason: "signed in the future" };
  return undefined;
}

/** Postmark: HTTP basic auth in the webhook's URL (any user name, the secret as password), or the secret in X-Papermail-Secret. */
export function checkPostmark(headers: Record<string, string | string[] | undefined>, secret: string): Refusal | undefined {
  const header = headers["x-papermail-secret"];
  if (typeof header === "string") return sameSecret(header, secret) ? undefined : { status: 403, reason: "wrong X-Papermail-Secret" };
  const auth = headers.authorization;
  if (typeof auth !== "string" || !/^basic /i.test(auth)) return { status: 401, reason: "no credentials (put https://postmark:SECRET@your-site/webhooks/postmark in Postmark's webhook URL)" };
  const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
  const password = decoded.slice(decoded.indexOf(":") + 1);
  return decoded.includes(":") && sameSecret(password, secret) ? undefined : { status: 403, reason: "wrong password" };
}

/** Mailgun: HMAC-SHA256 of timestamp and token with the webhook signing key, signed within the allowed age. */
export function checkMailgun(sig: MailgunSignature | undefined, key: string, nowMs: number, maxAgeMinutes: number): Refusal | undefined {
  if (!sig || !sig.signature || !sig.token) return { status: 401, reason: "no signature" };
  const expected = createHmac("sha256", key).update(sig.timestamp + sig.token).digest("hex");
  if (!sameSecret(expected, sig.signature.toLowerCase())) return { status: 403, reason: "the signature does not match (PAPERMAIL_MAILGUN_SIGNING_KEY)" };
  return staleness(Number(sig.timestamp) * 1000, nowMs, maxAgeMinutes);
}

/** SendGrid: ECDSA (P-256, SHA-256) over the timestamp header and the raw body. */
export function checkSendgrid(headers: Record<string, string | string[] | undefined>, body: Buffer, key: KeyObject, nowMs: number, maxAgeMinutes: number): Refusal | undefined {
  const signature = headers["x-twilio-email-event-webhook-signature"];
  const timestamp = headers["x-twilio-email-event-webhook-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string") return { status: 401, reason: "no signature headers (turn on the Signed Event Webhook)" };
  let valid = false;
  try {
    valid = verifySignature("sha256", Buffer.concat([Buffer.from(timestamp, "utf8"), body]), key, Buffer.from(signature, "base64"));
  } catch {
    valid = false;
  }
  if (!valid) return { status: 403, reason: "the signature does not match (PAPERMAIL_SENDGRID_PUBLIC_KEY)" };
  return staleness(Number(timestamp) * 1000, nowMs, maxAgeMinutes);
}

/** Where SNS may keep its signing certificates: Amazon's own hosts, or the one place a setting adds. */
export function isSnsCertUrl(url: string, extra: string | undefined): boolean {
  if (extra && url.startsWith(extra)) return true;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === "https:" && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(u.hostname) && u.pathname.endsWith(".pem") && !u.username && !u.password && u.port === "";
}

/** The text SNS signs: the message's fields in a fixed order, each as "Name\nvalue\n". */
export function snsStringToSign(m: SnsEnvelope): string {
  const fields: Array<keyof SnsEnvelope> =
    m.Type === "Notification" ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return fields
    .filter((f) => m[f] !== undefined)
    .map((f) => `${f}\n${m[f]}\n`)
    .join("");
}

/** Fetches a certificate (PEM) by URL; the caller bounds time and size. */
export type CertificateSource = (url: string) => Promise<string>;

/**
 * SNS: the topic is one we accept, the certificate comes from Amazon (or the configured
 * place), the signature (version 1: SHA1withRSA, 2: SHA256withRSA) covers the fields,
 * and the message was sent within the allowed age.
 */
export async function checkSns(
  m: SnsEnvelope,
  options: { topics: readonly string[]; certUrl: string | undefined; nowMs: number; maxAgeMinutes: number; certificate: CertificateSource },
): Promise<Refusal | undefined> {
  if (!options.topics.includes(m.TopicArn)) return { status: 403, reason: `topic ${m.TopicArn} is not in PAPERMAIL_SES_TOPIC_ARNS` };
  if (!isSnsCertUrl(m.SigningCertURL, options.certUrl)) return { status: 403, reason: "the signing certificate is not on Amazon's SNS hosts" };
  let pem: string;
  try {
    pem = await options.certificate(m.SigningCertURL);
  } catch (err) {
    return { status: 403, reason: `the signing certificate cannot be fetched: ${(err as Error).message}` };
  }
  let valid = false;
  try {
    const cert = new X509Certificate(pem);
    const now = options.nowMs;
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) return { status: 403, reason: "the signing certificate has expired or is not valid yet" };
    valid = verifySignature(m.SignatureVersion === "1" ? "sha1" : "sha256", Buffer.from(snsStringToSign(m), "utf8"), cert.publicKey, Buffer.from(m.Signature, "base64"));
  } catch {
    valid = false;
  }
  if (!valid) return { status: 403, reason: "the SNS signature does not match" };
  return staleness(Date.parse(m.Timestamp), options.nowMs, options.maxAgeMinutes);
}
