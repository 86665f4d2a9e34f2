import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Config } from "../../config/load.js";
import { findProblems } from "../../alarms/drift.js";
import { sendTestCopy } from "../../deliver/test-copy.js";
import { checkAddress } from "../../model/address.js";
import { renderDigestMessage } from "../../render/digest-message.js";
import { digestContent } from "../../digest/content.js";
import { nextRuns } from "../../scheduler/slots.js";
import { bouncesByDomain, digestOutcomes, findReaders, papersPerListDay, readerBounceEvents, readerChangesByDay, readerDeliveries, rejectedDumps } from "../../store/console.js";
import type { Db } from "../../store/db.js";
import { findDigest, listDigests, waitingDigests } from "../../store/digests.js";
import { readOperations } from "../../store/operations.js";
import { countSubscribers, findSubscriberById, listSubscribers, setChoices, SUPPRESSED } from "../../store/subscribers.js";
import { parseChoices } from "../../model/choices.js";
import { listConsentEvents, mailRefusal } from "../../store/consent.js";
import { liftAddress, removeReader, suppressAddress } from "../../subscribers/manage.js";
import type { Clock } from "../../util/time.js";
import { clientAddress, clientNetwork, readForm, send } from "../http.js";
import { choicesView, renderPage } from "../pages.js";
import { checkPassword, createLoginGuard, PasswordCheckBusy, createSessions, csrfMatches, readCookie, sessionCookie, type Session } from "./auth.js";
import { stackedBars } from "./charts.js";

const HTML = "text/html; charset=utf-8";
const LOGIN_COOKIE = "papermail_admin_login";
/** The suppression form: the reason is shown in lists and exports, so it is one short line. */
const SUPPRESS_FORM = z.object({
  email: z.string().max(320, "the address is too long").default(""),
  reason: z
    .string()
    .max(200, "the reason is at most 200 characters")
    .regex(/^[^\x00-\x1f\x7f]*$/, "the reason must be one line without control characters")
    .optional(),
});

export interface ConsoleDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: (line: string) => void;
}

/**
 * The operator console under /admin: a second face on the functions the CLI uses
 * (no SQL or rule of its own beyond reading for display). Off unless a password is
 * configured. Every page is no-store; every form carries the session's CSRF token;
 * every change is logged with who made it (the operator, from which address).
 * Returns a handler that answers /admin requests (and says whether it did).
 */
export function createConsole(deps: ConsoleDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const { db, config, clock } = deps;
  const now = () => clock.now().getTime();
  const sessions = createSessions(now);
  const guard = createLoginGuard(now);
  // Secure cookies when the console is reached over HTTPS (directly or behind a proxy that says so).
  const secure = (req: IncomingMessage) => config.publicUrl.startsWith("https:") || (config.trustProxy && req.headers["x-forwarded-proto"] === "https");
  const page = (res: ServerResponse, status: number, name: string, title: string, data: Record<string, unknown>, headers: Record<string, string> = {}) =>
    send(res, status, HTML, renderPage(config, name, title, data, "admin-layout"), headers);
  const redirect = (res: ServerResponse, to: string, headers: Record<string, string> = {}) => send(res, 303, "text/plain; charset=utf-8", "See other.\n", { Location: to, ...headers });
  const who = (req: IncomingMessage) => `operator at ${clientAddress(req, config.trustProxy)}`;

  function loginPage(req: IncomingMessage, res: ServerResponse, status: number, error?: string, headers: Record<string, string> = {}) {
    // Login CSRF: the form's token must match a cookie only this browser holds.
    const token = randomBytes(18).toString("base64url");
    page(res, status, "admin-login", "Log in", { loginToken: token, error }, { ...headers, "Set-Cookie": `${LOGIN_COOKIE}=${token}; Path=/admin; HttpOnly; SameSite=Strict${secure(req) ? "; Secure" : ""}` });
  }

  async function login(req: IncomingMessage, res: ServerResponse) {
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
    deps.log(`admin: ${who(req)} logged in`);
    redirect(res, "/admin", { "Set-Cookie": sessionCookie(s.id, secure(req)) });
  }

  function overview(res: ServerResponse, s: Session) {
    const at = clock.now();
    const since = new Date(at.getTime() - 29 * 86400_000).toISOString().slice(0, 10);
    const days = Array.from({ length: 30 }, (_, i) => new Date(Date.parse(since) + i * 86400_000).toISOString().slice(0, 10));
    const changes = new Map(readerChangesByDay(db, since).map((c) => [c.day, c]));
    const pick = (key: "joined" | "left" | "bounced" | "complained") => days.map((d) => changes.get(d)?.[key] ?? 0);
    const readersChart = stackedBars("Readers who joined and left, per day (30 days)", "Confirmed subscriptions, unsubscribes, bounces and complaints per day over the last 30 days.", days.map((d) => d.slice(5)), [
      { name: "joined", values: pick("joined") },
      { name: "unsubscribed", values: pick("left") },
      { name: "bounced", values: pick("bounced") },
      { name: "complained", values: pick("complained") },
    ]);
    const digests = digestOutcomes(db, 20);
    const oldestFirst = [...digests].reverse();
    const digestsChart = stackedBars("Messages of the last 20 digests by outcome", "For each digest, its messages sent, waiting, failed, unknown and skipped.", oldestFirst.map((d) => `#${d.id}`), [
      { name: "sent", values: oldestFirst.map((d) => d.sent) },
      { name: "waiting", values: oldestFirst.map((d) => d.waiting) },
      { name: "failed", values: oldestFirst.map((d) => d.failed) },
      { name: "unknown", values: oldestFirst.map((d) => d.unknown) },
      { name: "skipped", values: oldestFirst.map((d) => d.skipped) },
    ]);
    const perDay = papersPerListDay(db, 30);
    const papersChart = stackedBars("Papers per list day (the newest 30 list days)", "How many papers Hugging Face listed on each of the newest 30 list days, as ingested.", perDay.map((p) => p.day.slice(5)), [
      { name: "papers", values: perDay.map((p) => p.papers) },
    ]);
    const ops = readOperations(db);
    const totals = countSubscribers(db);
    page(res, 200, "admin-overview", "Overview", {
      signedIn: true,
      csrf: s.csrf,
      alerts: findProblems(db, config, at),
      readerTotals: Object.entries(totals).map(([status, count]) => ({ status, count })),
      readersChart,
      digestsChart,
      papersChart,
      digests,
      queue: waitingDigests(db, at),
      schedule: nextRuns(config, at),
      domains: bouncesByDomain(db, new Date(at.getTime() - 30 * 86400_000).toISOString(), 20),
      lastIngest: ops.lastIngestAt ?? "never",
      lastFetch: ops.lastFetchAt ?? "never",
      dumps: ops.dumps,
      rejected: rejectedDumps(db, 10),
    });
  }

  function readerPage(res: ServerResponse, s: Session, id: number, notice?: string, error?: string, status = 200) {
    const reader = findSubscriberById(db, id);
    if (!reader) return page(res, 404, "admin-readers", "Readers", { signedIn: true, csrf: s.csrf, readers: [], caption: "No such reader (forgotten?)" });
    page(res, status, "admin-reader", reader.email, {
      signedIn: true,
      csrf: s.csrf,
      reader,
      choices: choicesView(reader.choices),
      deliveries: readerDeliveries(db, id, 50),
      events: readerBounceEvents(db, id),
      consent: listConsentEvents(db, id).map((e) => ({ ...e, refused: e.outcome === "refused" })),
      suppressedByOperator: reader.suppressedBy === "operator",
      notice,
      error,
    });
  }

  function suppressionsPage(res: ServerResponse, s: Session, notice?: string, error?: string, status = 200) {
    const rows = SUPPRESSED.flatMap((st) => listSubscribers(db, st))
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ email: r.email, status: r.suppressedBy === "operator" ? `suppressed (${r.status})` : r.status, reason: r.suppressedReason ?? (r.status === "unsubscribed" ? "unsubscribed" : ""), since: r.suppressedAt ?? r.unsubscribedAt ?? "" }));
    page(res, status, "admin-suppressions", "Suppressions", { signedIn: true, csrf: s.csrf, rows, notice, error });
  }

  function digestsPage(res: ServerResponse, s: Session, notice?: string, error?: string, status = 200) {
    page(res, status, "admin-digests", "Digests", { signedIn: true, csrf: s.csrf, digests: listDigests(db, 100), notice, error });
  }

  return async (req, res, url) => {
    const path = url.pathname;
    if (path !== "/admin" && !path.startsWith("/admin/")) return false;
    if (!config.adminPassword) {
      send(res, 404, "text/plain; charset=utf-8", "The console is off: set PAPERMAIL_ADMIN_PASSWORD (or _HASH) to turn it on.\n");
      return true;
    }
    const method = req.method === "HEAD" ? "GET" : req.method;
    if (path === "/admin/login") {
      if (method === "GET") loginPage(req, res, 200);
      else if (method === "POST") await login(req, res);
      else send(res, 405, "text/plain; charset=utf-8", "Method not allowed.\n", { Allow: "GET, POST" });
      return true;
    }
    const s = sessions.find(req);
    if (!s) {
      redirect(res, "/admin/login");
      return true;
    }
    if (method === "POST") {
      const form = await readForm(req);
      if (!csrfMatches(s, form.get("csrf"))) {
        send(res, 403, HTML, renderPage(config, "notice", "Form expired", { heading: "Form expired", message: "This form is out of date. Go back, reload the page and try again." }, "admin-layout"));
        return true;
      }
      const at = clock.now().toISOString();
      if (path === "/admin/logout") {
        sessions.close(s.id);
        deps.log(`admin: ${who(req)} logged out`);
        redirect(res, "/admin/login", { "Set-Cookie": sessionCookie("", secure(req), 0) });
        return true;
      }
      const readerAction = /^\/admin\/readers\/(\d{1,12})\/(choices|unsubscribe|forget)$/.exec(path);
      if (readerAction) {
        const id = Number(readerAction[1]);
        const reader = findSubscriberById(db, id);
        if (!reader) return (readerPage(res, s, id), true);
        if (readerAction[2] === "choices") {
          const parsed = parseChoices({ cadence: form.get("cadence") ?? undefined, topics: form.get("topics") ?? undefined, minUpvotes: form.get("min_upvotes") ?? undefined, format: form.get("format") ?? undefined }, "form");
          if (!parsed.ok) return (readerPage(res, s, id, undefined, `${parsed.error}.`, 400), true);
          setChoices(db, id, parsed.choices);
          deps.log(`admin: ${who(req)} changed the choices of ${reader.email}`);
          return (readerPage(res, s, id, "Choices saved."), true);
        }
        const done = removeReader(db, reader, readerAction[2] === "forget", at);
        deps.log(`admin: ${who(req)} ${done === "forgot" ? "forgot" : done === "kept" ? `asked to unsubscribe (stays ${reader.status})` : "unsubscribed"} ${reader.email}`);
        if (done === "forgot") return (redirect(res, "/admin/readers"), true);
        const words = done === "unsubscribed" ? "Unsubscribed: no further digests." : done === "kept" ? `Stays ${reader.status}: that is stronger than an unsubscribe.` : "Already unsubscribed.";
        return (readerPage(res, s, id, words), true);
      }
      if (path === "/admin/suppressions/add") {
        const fields = SUPPRESS_FORM.safeParse(Object.fromEntries(form));
        if (!fields.success) return (suppressionsPage(res, s, undefined, `That form is not valid: ${fields.error.issues[0]!.message}.`, 400), true);
        const r = suppressAddress(db, fields.data.email, fields.data.reason?.trim() || undefined, at);
        if (r.outcome === "refused") return (suppressionsPage(res, s, undefined, `"${r.input}" ${r.why}.`, 400), true);
        deps.log(`admin: ${who(req)} suppressed ${r.address}${r.outcome === "already" ? " again (new reason)" : ""}`);
        if (r.outcome === "already") return (suppressionsPage(res, s, `${r.address} was already suppressed; the reason is updated.`), true);
        return (suppressionsPage(res, s, `Suppressed ${r.address}.`), true);
      }
      if (path === "/admin/suppressions/lift") {
        const r = liftAddress(db, form.get("email") ?? "", at);
        if (r.outcome !== "lifted") return (suppressionsPage(res, s, undefined, `${r.input} is not on the suppression list.`, 400), true);
        deps.log(`admin: ${who(req)} lifted the suppression of ${r.address} (was ${r.was})`);
        return (suppressionsPage(res, s, `Lifted: ${r.address} is pending and may subscribe again.`), true);
      }
      const test = /^\/admin\/digests\/(\d{1,9})\/test$/.exec(path);
      if (test) {
        const digest = findDigest(db, Number(test[1]));
        const check = checkAddress(form.get("to") ?? "");
        if (!digest) return (digestsPage(res, s, undefined, "No such digest.", 404), true);
        if (!check.ok) return (digestsPage(res, s, undefined, `That address ${check.reason}.`, 400), true);
        const refusal = mailRefusal(db, check.address);
        if (refusal) return (digestsPage(res, s, undefined, `Not sent: ${refusal}.`, 409), true);
        // The very message a reader of the whole digest gets: the one function every path uses.
        const message = await renderDigestMessage(config, digestContent(db, digest.id));
        const { outcome, mail } = await sendTestCopy(config, message, check.address, clock.now());
        deps.log(`admin: ${who(req)} sent a test copy of digest #${digest.id} to ${check.address}: ${outcome.status}`);
        if (outcome.status !== "sent") return (digestsPage(res, s, undefined, `The test copy was not sent (${outcome.status}): ${outcome.error}`, 502), true);
        return (digestsPage(res, s, `Sent a test copy of digest #${digest.id} to ${check.address} via ${mail}.`), true);
      }
      send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
      return true;
    }
    if (method !== "GET") {
      send(res, 405, "text/plain; charset=utf-8", "Method not allowed.\n", { Allow: "GET, POST" });
      return true;
    }
    if (path === "/admin") overview(res, s);
    else if (path === "/admin/readers") {
      const q = (url.searchParams.get("q") ?? "").trim().slice(0, 200);
      page(res, 200, "admin-readers", "Readers", { signedIn: true, csrf: s.csrf, q, readers: findReaders(db, q, 100), caption: q ? `Readers whose address contains "${q}"` : "The newest readers" });
    } else if (/^\/admin\/readers\/\d{1,12}$/.test(path)) readerPage(res, s, Number(path.split("/")[3]));
    else if (path === "/admin/suppressions") suppressionsPage(res, s);
    else if (path === "/admin/digests") digestsPage(res, s);
    else send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
    return true;
  };
}
