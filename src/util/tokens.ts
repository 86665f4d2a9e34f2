import { createHmac, randomBytes } from "node:crypto";

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
 * A reader's unsubscribe token for one digest: derived from the secret, so every
 * copy of that digest (a retry, a re-send) carries the same working link.
 */
export function unsubscribeToken(secret: string, digestId: number, subscriberId: number): string {
  return createHmac("sha256", secret).update(`unsubscribe:${digestId}:${subscriberId}`).digest("base64url").slice(0, 24);
}
