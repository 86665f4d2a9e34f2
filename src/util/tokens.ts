import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A random URL-safe token of 144 bits. */
export function newToken(): string {
  return randomBytes(18).toString("base64url");
}

/**
 * What the database keeps of a token: HMAC-SHA256 under the signing secret, hex.
 * Tokens are found by this keyed hash, so no comparison of secrets happens that timing could reveal.
 */
export function hashToken(secret: string, token: string): string {
  return createHmac("sha256", secret).update(token).digest("hex");
}

/** True when a token looks like one of ours (before any lookup). */
export function isWellFormedToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{24}$/.test(token);
}

/** A short keyed digest, for deterministic ids that reveal nothing (Message-IDs). */
export function keyedId(secret: string, value: string, length = 20): string {
  return createHmac("sha256", secret).update(value).digest("hex").slice(0, length);
}

/**
 * A reader's unsubscribe token for one digest: `DIGEST.SUBSCRIBER.MAC` (ids in base
 * 36, a 132-bit HMAC under the secret). It names no address, needs no ledger row to
 * be checked, and every copy of the digest (a retry, a re-send) carries the same one.
 */
export function unsubscribeToken(secret: string, digestId: number, subscriberId: number): string {
  return `${digestId.toString(36)}.${subscriberId.toString(36)}.${unsubscribeMac(secret, digestId, subscriberId)}`;
}

/** The digest and subscriber a signed unsubscribe token names, if one of the secrets (current, previous) signed it. */
export function readUnsubscribeToken(secrets: readonly string[], token: string): { digestId: number; subscriberId: number } | undefined {
  const m = /^([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return undefined;
  const digestId = parseInt(m[1]!, 36);
  const subscriberId = parseInt(m[2]!, 36);
  const given = Buffer.from(m[3]!);
  for (const secret of secrets) {
    if (timingSafeEqual(Buffer.from(unsubscribeMac(secret, digestId, subscriberId)), given)) return { digestId, subscriberId };
  }
  return undefined;
}

function unsubscribeMac(secret: string, digestId: number, subscriberId: number): string {
  return purposeMac(secret, `unsubscribe:${digestId}:${subscriberId}`);
}

/**
 * A reader's preferences token: `SUBSCRIBER.MAC` (base 36, a 132-bit HMAC for this
 * purpose only). Signed rather than stored, like the unsubscribe token: it works in
 * every old email for as long as the secret (or the previous one) does.
 */
export function preferencesToken(secret: string, subscriberId: number): string {
  return `${subscriberId.toString(36)}.${purposeMac(secret, `preferences:${subscriberId}`)}`;
}

/** The subscriber a preferences token names, if one of the secrets signed it. */
export function readPreferencesToken(secrets: readonly string[], token: string): number | undefined {
  const m = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return undefined;
  const subscriberId = parseInt(m[1]!, 36);
  const given = Buffer.from(m[2]!);
  for (const secret of secrets) {
    if (timingSafeEqual(Buffer.from(purposeMac(secret, `preferences:${subscriberId}`)), given)) return subscriberId;
  }
  return undefined;
}

/**
 * The undo of one unsubscribe: `SUBSCRIBER.TIME.MAC` (base 36; TIME is when that
 * unsubscribe happened, in ms). It answers that unsubscribe only: a later one has
 * another time, and once undone the time is gone, so the link works once.
 */
export function undoToken(secret: string, subscriberId: number, unsubscribedAt: string): string {
  const t = Date.parse(unsubscribedAt).toString(36);
  return `${subscriberId.toString(36)}.${t}.${purposeMac(secret, `undo:${subscriberId}:${t}`)}`;
}

/** The subscriber and unsubscribe time an undo token names, if one of the secrets signed it. */
export function readUndoToken(secrets: readonly string[], token: string): { subscriberId: number; unsubscribedAt: string } | undefined {
  const m = /^([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return undefined;
  const subscriberId = parseInt(m[1]!, 36);
  const ms = parseInt(m[2]!, 36);
  const given = Buffer.from(m[3]!);
  if (!Number.isSafeInteger(ms) || ms > 8.64e15) return undefined;
  for (const secret of secrets) {
    if (timingSafeEqual(Buffer.from(purposeMac(secret, `undo:${subscriberId}:${m[2]}`)), given)) return { subscriberId, unsubscribedAt: new Date(ms).toISOString() };
  }
  return undefined;
}

function purposeMac(secret: string, value: string): string {
  return createHmac("sha256", secret).update(value).digest("base64url").slice(0, 22);
}

/**
 * The Message-ID (left of the @) of a reader's copy of a digest: `digest-D.S.MAC`,
 * the digest and subscriber ids in base 36 and a keyed MAC. A report that quotes it
 * names the reader even when it hides their address, and nobody can make one up.
 */
export function digestMessageId(secret: string, digestId: number, subscriberId: number): string {
  return `digest-${digestId}.${subscriberId.toString(36)}.${keyedId(secret, `message:${digestId}:${subscriberId}`, 16)}`;
}

/** The Message-ID (left of the @) of a confirmation email: `confirm-S.T.MAC`, the subscriber and the time it was made. */
export function confirmationMessageId(secret: string, subscriberId: number, at: Date): string {
  const t = at.getTime().toString(36);
  return `confirm-${subscriberId.toString(36)}.${t}.${keyedId(secret, `confirm:${subscriberId}:${t}`, 16)}`;
}

/** What one of papermail's Message-IDs says, when one of the secrets made it. */
export type MessageIdClaim =
  | { kind: "digest"; digestId: number; subscriberId: number }
  | { kind: "confirm"; subscriberId: number; made: string }
  /** Before subscriber ids were in Message-IDs: the MAC is checked against a named reader. */
  | { kind: "digest-keyed"; digestId: number; key: string };

/** Reads one of papermail's Message-IDs (`<...@domain>` or bare); undefined for anyone else's or a forged one. */
export function readMessageId(secrets: readonly string[], messageId: string): MessageIdClaim | undefined {
  const local = messageId.replace(/^<|>$/g, "").split("@")[0] ?? "";
  let m = /^digest-(\d{1,12})\.([0-9a-z]{1,11})\.([0-9a-f]{16})$/.exec(local);
  if (m) {
    const digestId = Number(m[1]);
    const subscriberId = parseInt(m[2]!, 36);
    return secrets.some((s) => safeEqual(keyedId(s, `message:${digestId}:${subscriberId}`, 16), m![3]!)) ? { kind: "digest", digestId, subscriberId } : undefined;
  }
  m = /^confirm-([0-9a-z]{1,11})\.([0-9a-z]{1,12})\.([0-9a-f]{16})$/.exec(local);
  if (m) {
    const subscriberId = parseInt(m[1]!, 36);
    return secrets.some((s) => safeEqual(keyedId(s, `confirm:${subscriberId}:${m![2]}`, 16), m![3]!)) ? { kind: "confirm", subscriberId, made: m[2]! } : undefined;
  }
  m = /^digest-(\d{1,12})\.([0-9a-f]{20})$/.exec(local);
  if (m) return { kind: "digest-keyed", digestId: Number(m[1]), key: m[2]! };
  return undefined;
}

/** True when an old-style keyed Message-ID was made for this digest and subscriber. */
export function isDigestKey(secrets: readonly string[], digestId: number, subscriberId: number, key: string): boolean {
  return secrets.some((s) => safeEqual(keyedId(s, `message:${digestId}:${subscriberId}`), key));
}

function safeEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** True when a secret someone gave is the expected one, in constant time (both hashed first: equal lengths, no early exit on the length). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
