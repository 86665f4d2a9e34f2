import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The envelope sender of one message with VERP: `bounces+D.S.MAC@example.org`. D and
 * S are the digest and subscriber ids in base 36 and MAC 16 hex digits of an HMAC
 * under the secret: lower case only, since some servers fold the local part's case.
 * A bounce names its recipient this way even when its body is mangled.
 */
export function verpAddress(secret: string, bounceAddress: string, digestId: number, subscriberId: number): string {
  const at = bounceAddress.lastIndexOf("@");
  return `${bounceAddress.slice(0, at)}+${digestId.toString(36)}.${subscriberId.toString(36)}.${verpMac(secret, digestId, subscriberId)}${bounceAddress.slice(at)}`;
}

/** The digest and subscriber a VERP address names, if one of the secrets signed it. */
export function readVerpAddress(secrets: readonly string[], address: string): { digestId: number; subscriberId: number } | undefined {
  const m = /\+([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([0-9a-f]{16})@/i.exec(address);
  if (!m) return undefined;
  const digestId = parseInt(m[1]!.toLowerCase(), 36);
  const subscriberId = parseInt(m[2]!.toLowerCase(), 36);
  const given = Buffer.from(m[3]!.toLowerCase());
  for (const secret of secrets) {
    const expected = Buffer.from(verpMac(secret, digestId, subscriberId));
    if (timingSafeEqual(expected, given)) return { digestId, subscriberId };
  }
  return undefined;
}

function verpMac(secret: string, digestId: number, subscriberId: number): string {
  return createHmac("sha256", secret).update(`verp:${digestId}:${subscriberId}`).digest("hex").slice(0, 16);
}
