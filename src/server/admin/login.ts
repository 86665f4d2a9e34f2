import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { clientAddress, clientNetwork, readForm } from "../http.js";
import { checkPassword, createLoginGuard, createSessions, PasswordCheckBusy, readCookie, sessionCookie } from "./auth.js";
import type { ConsoleDeps, ConsoleKit } from "./kit.js";

const LOGIN_COOKIE = "papermail_admin_login";

/** The login form and its check: a brake on failing clients, the password checked off the event loop. */
export function consoleLogin(deps: ConsoleDeps, kit: ConsoleKit) {
  const { config } = deps;
  const now = () => deps.clock.now().getTime();
  const sessions = createSessions(now);
  const guard = createLoginGuard(now);

  function loginPage(req: IncomingMessage, res: ServerResponse, status: number, error?: string, headers: Record<string, string> = {}): void {
    // Login CSRF: the form's token must match a cookie only this browser holds.
    const token = randomBytes(18).toString("base64url");
    kit.page(res, status, "admin-login", "Log in", { loginToken: token, error }, { ...headers, "Set-Cookie": `${LOGIN_COOKIE}=${token}; Path=/admin; HttpOnly; SameSite=Strict${kit.secure(req) ? "; Secure" : ""}` });
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const client = clientNetwork(clientAddress(req, config.trustProxy));
    const form = await readForm(req);
    const cookie = readCookie(req, LOGIN_COOKIE);
    if (!cookie || form.get("csrf") !== cookie) return loginPage(req, res, 403, "The form expired. Log in again.");
    // Counted before the check, in the same turn of the event loop: a burst gets no more checks than the limit.
    const attempt = guard.begin(client);
    if ("waitSeconds" in attempt) {
      const wait = attempt.waitSeconds;
      return loginPage(req, res, 429, `Too many failed logins from your address. Try again in ${Math.ceil(wait / 60)} minute(s).`, { "Retry-After": String(wait) });
    }
    let ok: boolean;
    try {
      ok = await checkPassword(form.get("password") ?? "", config.adminPassword!);
    } catch (err) {
      attempt.finish("abandoned");
      if (err instanceof PasswordCheckBusy) return loginPage(req, res, 503, "Too many logins at once. Try again in a few seconds.", { "Retry-After": "5" });
      throw err;
    }
    attempt.finish(ok);
    if (!ok) {
      deps.log(`admin: failed login from ${client}${guard.braking ? " (many failures: clients that failed wait 15 minutes; others get one try at a time)" : ""}`);
      return loginPage(req, res, 401, "That password is not the console's.");
    }
    const s = sessions.open(client);
    deps.log(`admin: ${kit.who(req)} logged in`);
    kit.redirect(res, "/admin", { "Set-Cookie": sessionCookie(s.id, kit.secure(req)) });
  }

  return { sessions, loginPage, login };
}
