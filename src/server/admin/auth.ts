import { randomBytes } from "node:crypto";
import { sameSecret } from "../../util/tokens.js";
import type { IncomingMessage } from "node:http";
import { fileURLToPath } from "node:url";
import { createBoundedWorker } from "../../work/bounded-worker.js";
import { samePassword } from "./password.js";

export { hashPassword } from "./password.js";

// The worker runs the built JavaScript (dist/), also when this module runs from src/ in tests.
const PASSWORD_WORKER = fileURLToPath(new URL("../../../dist/server/admin/password-worker.js", import.meta.url));

/** Checks waiting beyond this are refused (PasswordCheckBusy): memory stays bounded whatever arrives. */
const CHECKS_WAITING = 64;
let waiting = 0;
let checker: ReturnType<typeof createBoundedWorker<{ password: string; hash: string }, boolean>> | undefined;

/** Too many password checks are waiting: answer "try again shortly". */
export class PasswordCheckBusy extends Error {}

/**
 * True when `password` is the configured one (compared in constant time either way).
 * A hash is checked in a worker thread of low priority, one check at a time: a burst
 * of logins queues there (refused past CHECKS_WAITING) and never stalls the site.
 */
export async function checkPassword(password: string, configured: { plain: string } | { hash: string }): Promise<boolean> {
  if ("plain" in configured) return samePassword(password, configured.plain);
  if (waiting >= CHECKS_WAITING) throw new PasswordCheckBusy("too many password checks waiting");
  checker ??= createBoundedWorker(PASSWORD_WORKER, { timeoutMs: 30_000 });
  waiting++;
  try {
    return await checker.run({ password, hash: configured.hash });
  } finally {
    waiting--;
  }
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
  return sameSecret(given, session.csrf);
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

/** Tries per client in a window; failures from everyone that put the brake on. */
const PER_CLIENT = 5;
const EVERYONE = 20;
const WINDOW_MS = 15 * 60_000;
/** Clients remembered at most: beyond it the oldest are forgotten (memory stays bounded). */
const MAX_CLIENTS = 100_000;

/**
 * Login throttling that can slow a guesser but never lock the operator out.
 *
 * - A try is counted when it begins, before the password is checked, so a burst of
 *   simultaneous guesses gets no more checks than the limit: at most 5 tries (failed or
 *   in progress) per client in 15 minutes, then 429 until the oldest leaves the window.
 * - When 20 tries from anyone failed within 15 minutes (a spread-out guess), the brake
 *   is on: a client that failed even once waits out the window, and every other client
 *   gets one try at a time. A client that has not failed is never refused, so the
 *   operator's right password still opens the console during an attack.
 * - A success clears that client's count.
 */
export function createLoginGuard(now: () => number) {
  const clients = new Map<string, { failures: number[]; inFlight: number }>();
  let failures: number[] = [];
  const prune = (list: number[]) => list.filter((at) => now() - at < WINDOW_MS);
  const braking = () => (failures = prune(failures)).length >= EVERYONE;
  return {
    /**
     * Counts a try before its check. Returns `finish` to call with the check's result
     * ("abandoned": never checked), or the seconds to wait when this client may not try now.
     */
    begin(client: string): { finish: (result: boolean | "abandoned") => void } | { waitSeconds: number } {
      const c = clients.get(client) ?? { failures: [], inFlight: 0 };
      c.failures = prune(c.failures);
      const brake = braking();
      const limit = brake ? 1 : PER_CLIENT;
      if ((brake && c.failures.length > 0) || c.failures.length + c.inFlight >= limit) {
        const oldest = c.failures[0] ?? now();
        return { waitSeconds: Math.max(1, Math.ceil((oldest + WINDOW_MS - now()) / 1000)) };
      }
      c.inFlight++;
      clients.delete(client);
      clients.set(client, c);
      if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value!);
      let done = false;
      return {
        finish(result: boolean | "abandoned") {
          if (done) return;
          done = true;
          c.inFlight--;
          if (result === "abandoned") return;
          if (result) return void clients.delete(client);
          c.failures.push(now());
          failures.push(now());
        },
      };
    },
    /** True while the brake is on (20 failures from anyone in 15 minutes). */
    get braking(): boolean {
      return braking();
    },
  };
}
