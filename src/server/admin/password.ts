import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { sameSecret } from "../../util/tokens.js";

/** scrypt parameters of a new hash: about 50 ms of work and 16 MB on these machines. */
const N = 16384;
const R = 8;
const P = 1;

/** The stored form of a password: `scrypt$N$r$p$salt$hash` (base64url), what PAPERMAIL_ADMIN_PASSWORD_HASH holds. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** True when `password` hashes to `stored` (scrypt, as hashPassword writes it), compared in constant time. */
export function verifyPassword(password: string, stored: string): boolean {
  const [, n, r, p, salt, hash] = stored.split("$");
  const expected = Buffer.from(hash!, "base64url");
  const got = scryptSync(password, Buffer.from(salt!, "base64url"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(got, expected);
}

/** True when `password` is the plain configured one, compared in constant time. */
export function samePassword(password: string, plain: string): boolean {
  return sameSecret(password, plain);
}
