import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

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

/** True when `password` is the configured one (compared in constant time either way). */
export function checkPassword(password: string, configured: { plain: string } | { hash: string }): boolean {
  if ("plain" in configured) {
    const digest = (s: string) => createHash("sha256").update(s).digest();
    return timingSafeEqual(digest(password), digest(configured.plain));
  }
  const [, n, r, p, salt, hash] = configured.hash.split("$");
  const expected = Buffer.from(hash!, "base64url");
  const got = scryptSync(password, Buffer.from(salt!, "base64url"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(got, expected);
}

/** An operator's session: who, since when, and the token every form must carry back. */
export interface Session {
  id: string;
  csrf: string;
  client: string;
  createdAt: number;
  seenAt: number;
}

/** Sessions end after this long without a request, and after this long at most. */
const IDLE_MS = 2 * 3600_000;
const MAX_MS = 12 * 3600_000;
export const SESSION_COOKIE = "papermail_admin";

/** The console's sessions, in memory: a restart logs everyone out, which is the safe way round. */
export function createSessions(now: () => number) {
  const sessions = new Map<string, Session>();
  return {
    open(client: string): Session {
      const s: Session = { id: randomBytes(32).toString("base64url"), csrf: randomBytes(24).toString("base64url"), client, createdAt: now(), seenAt: now() };
      sessions.set(s.id, s);
      return s;
    },
    /** The live session a request's cookie names, refreshed; undefined when there is none or it ran out. */
    find(req: IncomingMessage): Session | undefined {
      const id = readCookie(req, SESSION_COOKIE);
      const s = id ? sessions.get(id) : undefined;
      if (!s) return undefined;
      if (now() - s.seenAt > IDLE_MS || now() - s.createdAt > MAX_MS) {
        sessions.delete(s.id);
        return undefined;
      }
      s.seenAt = now();
      return s;
    },
    close(id: string): void {
      sessions.delete(id);
    },
  };
}

/** True when a form's CSRF token is the session's (constant time). */
export function csrfMatches(session: Session, given: string | null | undefined): boolean {
  if (!given) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(session.csrf));
}

/** A cookie's value from the request, if sent. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** The session cookie: HttpOnly, SameSite=Strict, Secure when the console is reached over HTTPS, scoped to /admin. */
export function sessionCookie(value: string, secure: boolean, maxAgeSeconds?: number): string {
  return [`${SESSION_COOKIE}=${value}`, "Path=/admin", "HttpOnly", "SameSite=Strict", secure ? "Secure" : "", maxAgeSeconds !== undefined ? `Max-Age=${maxAgeSeconds}` : ""]
    .filter(Boolean)
    .join("; ");
}

/** Failed logins allowed per client in a window, and for everyone together before the console locks. */
const PER_CLIENT = 5;
const EVERYONE = 20;
const WINDOW_MS = 15 * 60_000;

/**
 * Login throttling: a client with 5 failures in 15 minutes waits out the window; 20
 * failures from anyone lock every login for 15 minutes (a spread-out guess gets
 * nowhere either). A success clears the client's count.
 */
export function createLoginGuard(now: () => number) {
  const failures: Array<{ client: string; at: number }> = [];
  let lockedUntil = 0;
  const recent = () => {
    while (failures.length > 0 && now() - failures[0]!.at > WINDOW_MS) failures.shift();
    return failures;
  };
  return {
    /** Seconds to wait before this client may try again, or 0. */
    waitSeconds(client: string): number {
      if (lockedUntil > now()) return Math.ceil((lockedUntil - now()) / 1000);
      const mine = recent().filter((f) => f.client === client);
      return mine.length >= PER_CLIENT ? Math.ceil((mine[0]!.at + WINDOW_MS - now()) / 1000) : 0;
    },
    failed(client: string): void {
      failures.push({ client, at: now() });
      if (recent().length >= EVERYONE) lockedUntil = now() + WINDOW_MS;
    },
    succeeded(client: string): void {
      for (let i = failures.length - 1; i >= 0; i--) if (failures[i]!.client === client) failures.splice(i, 1);
    },
    get locked(): boolean {
      return lockedUntil > now();
    },
  };
}
