import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

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

function purposeMac(secret: string, value: string): string {
  return createHmac("sha256", secret).update(value).digest("base64url").slice(0, 22);
}
