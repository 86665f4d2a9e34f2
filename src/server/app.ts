import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { z } from "zod";
import type { Config } from "../config/load.js";
import { preferencesLink } from "../render/links.js";
import type { Mailer } from "../deliver/transport/mailer.js";
import { describeError } from "../errors.js";
import type { Db } from "../store/db.js";
import { newestDigestId } from "../store/digests.js";
import { DEFAULT_CHOICES, describeChoices, parseChoices, type ChoicesResult, type ReaderChoices } from "../model/choices.js";
import { findSubscriberById, setChoices, type Subscriber } from "../store/subscribers.js";
import { firstEmail } from "./subscription-words.js";
import { unsubscribeToken } from "../util/tokens.js";
import {
  undoUnsubscribeByToken,
  confirmSubscription,
  findByPreferencesToken,
  findConfirmable,
  findUnsubscribable,
  readUndoLink,
  requestSubscription,
  undoLink,
  unsubscribeByToken,
} from "../subscribers/subscribe.js";
import type { Clock } from "../util/time.js";
import { createFeedHandler, FEED_PATHS } from "./feed-route.js";
import { applyJournalledUnsubscribes, journalDir } from "../subscribers/unsubscribe-journal.js";
import { clientAddress, clientNetwork, createRateLimiter, HttpError, isOneClickBody, readBody, readForm, requestUrl, send } from "./http.js";
import { choicesView, renderNotice, renderPage } from "./pages.js";
import { archiveEntries, latestTopPapers, renderDigestPage, renderPaperPage, renderSearchPage } from "./reader-pages.js";
import { FAVICON_ICO, FAVICON_SVG } from "./favicon.js";
import { answerError } from "./errors.js";
import { findPaperBySlug } from "../store/papers.js";
import { findProblems } from "../alarms/drift.js";
import { routeOf, type Metrics } from "../metrics/registry.js";
import { serveMetrics } from "./metrics-route.js";
import { createConsole } from "./admin/console.js";
import { resolveSecret } from "../store/settings.js";

export interface AppDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** Where confirmation emails go; the configured transport when omitted. */
  mailer?: Mailer;
  log?: (line: string) => void;
  /** The process's metrics: answers are counted, and /metrics serves them when PAPERMAIL_METRICS_TOKEN is set. */
  metrics?: Metrics;
}

const HTML = "text/html; charset=utf-8";
/** Pages the same for everyone: caches may keep them a while. */
const PUBLIC = { "Cache-Control": "public, max-age=300" };
const STATIC = { "Cache-Control": "public, max-age=86400" };
/** A reader's choices as a form sends them (checked by parseChoices). */
const CHOICE_FIELDS = {
  cadence: z.string().max(20).optional(),
  topics: z.string().max(2000, "the topics are too long").optional(),
  min_upvotes: z.string().max(20).optional(),
  format: z.string().max(20).optional(),
};
const CHOICES_FORM = z.object(CHOICE_FIELDS);
/** The subscribe form: an address field, the honeypot and the optional choices. */
const SUBSCRIBE_FORM = z.object({
  email: z.string().max(320, "the address is too long").default(""),
  website: z.string().max(2000).default(""),
  ...CHOICE_FIELDS,
});

type ChoiceFields = z.infer<typeof CHOICES_FORM>;

function readChoices(form: ChoiceFields): ChoicesResult {
  return parseChoices({ cadence: form.cadence, topics: form.topics, minUpvotes: form.min_upvotes, format: form.format }, "form");
}

/** The choices a page's form posted, checked; on error, the sentence to show and what was sent. */
async function postedChoices(req: IncomingMessage): Promise<{ ok: true; choices: Partial<ReaderChoices> } | { ok: false; error: string; sent?: ChoiceFields }> {
  const form = CHOICES_FORM.safeParse(Object.fromEntries(await readForm(req)));
  if (!form.success) return { ok: false, error: `That form is not valid: ${form.error.issues[0]!.message}.` };
  const result = readChoices(form.data);
  return result.ok ? result : { ok: false, error: `${result.error}.`, sent: form.data };
}

/** What a form sent, to show again next to its error. */
function sentChoices(form: ChoiceFields, fallback: ReaderChoices) {
  return choicesView({
    cadence: form.cadence === "weekly" ? "weekly" : form.cadence === "daily" ? "daily" : fallback.cadence,
    format: form.format === "compact" ? "compact" : form.format === "full" ? "full" : fallback.format,
    topics: form.topics ?? fallback.topics,
    minUpvotes: form.min_upvotes ?? fallback.minUpvotes,
  });
}
/** Form posts per client address in 15 minutes. */
const SUBSCRIBE_LIMIT = 5;

/**
 * The site: subscribe (double opt-in), confirm, unsubscribe (with RFC 8058 one-click),
 * the RSS feed, the digest archive and a health check. GETs never change state.
 */
export function createApp(deps: AppDeps): Server {
  const { config } = deps;
  const feed = createFeedHandler(deps.db, config);
  const limiter = createRateLimiter(SUBSCRIBE_LIMIT, 15 * 60_000, () => deps.clock.now().getTime());
  // The address is shown in the form only where the form could mail it: an address the operator suppressed gets nothing.
  const canSubscribeAgain = (sub: Subscriber) => sub.suppressedBy !== "operator";
  const log = deps.log ?? (() => undefined);
  const operatorConsole = config.admin ? undefined : createConsole({ db: deps.db, config, clock: deps.clock, log });
  const notFound = (res: ServerResponse) =>
    send(res, 404, HTML, renderNotice(config, "Link not found", "This link is not valid, has expired, or was already used."));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) throw new HttpError(400, "bad request target");
    const path = url.pathname;
    const method = req.method === "HEAD" ? "GET" : req.method;
    const token = /^\/(confirm|unsubscribe|resubscribe|preferences)\/([^/]+)$/.exec(path);

    // The console lives here unless it has a listener of its own (PAPERMAIL_ADMIN_HOST).
    if (operatorConsole && (await operatorConsole(req, res, url))) return;
    if (method === "GET" && path === "/") return send(res, 200, HTML, plainHomePage());
    // On the public address only with the token; without one, /metrics lives on the admin listener alone.
    if (method === "GET" && path === "/metrics" && deps.metrics && config.metricsToken) return serveMetrics(req, res, deps.metrics, config.metricsToken);
    if (method === "GET" && (path === "/healthz" || path === "/healthz/strict")) return health(res, path === "/healthz/strict");
    const feedFormat = FEED_PATHS[path];
    if (method === "GET" && feedFormat) return feed(req, res, feedFormat, url.searchParams);
    if (method === "GET" && path === "/digests") return send(res, 200, HTML, archivePage(), PUBLIC);
    const digestMatch = /^\/digests\/(\d{1,9})$/.exec(path);
    if (method === "GET" && digestMatch) return digestPage(res, Number(digestMatch[1]));
    const paperMatch = /^\/papers\/([A-Za-z0-9_-]{1,80})$/.exec(path);
    if (method === "GET" && paperMatch) return paperPage(res, paperMatch[1]!);
    if (method === "GET" && path === "/search") return searchPage(res, url.searchParams);
    if (method === "GET" && path === "/favicon.ico") return send(res, 200, "image/x-icon", FAVICON_ICO, STATIC);
    if (method === "GET" && path === "/favicon.svg") return send(res, 200, "image/svg+xml", FAVICON_SVG, STATIC);

    if (method === "POST" && path === "/subscribe") {
      const parsed = SUBSCRIBE_FORM.safeParse(Object.fromEntries(await readForm(req)));
      if (!parsed.success) return send(res, 400, HTML, homePage("", `That form is not valid: ${parsed.error.issues[0]!.message}.`));
      const form = parsed.data;
      const choices = readChoices(form);
      if (!choices.ok) return send(res, 400, HTML, homePage(form.email, `${choices.error}.`, sentChoices(form, DEFAULT_CHOICES)));
      // A filled honeypot is a bot: it gets the usual answer and nothing happens.
      if (form.website) return send(res, 200, HTML, checkInbox());
      if (!limiter.allow(clientNetwork(clientAddress(req, config.trustProxy)))) {
        return send(res, 429, HTML, renderNotice(config, "Slow down", "Too many subscription requests from your address. Try again in a few minutes."), {
          "Retry-After": "900",
        });
      }
      const result = requestSubscription(deps, form.email, choices.choices, clientNetwork(clientAddress(req, config.trustProxy)));
      if ("error" in result) return send(res, 400, HTML, homePage(form.email, result.error, sentChoices(form, DEFAULT_CHOICES)));
      result.sending
        .then((r) => {
          if (r.status === "failed") log(`confirmation email not sent (the next request will try again): ${r.error}`);
          if (r.status === "recently sent") log("confirmation email not sent: this address had one recently (at most one a day and three in 30 days)");
          if (r.status === "client limit") log("confirmation email not sent: this client asked for too many today");
          // Only the outbox gives the link: no mail leaves the machine, so a trial needs it here.
          if (r.status === "sent" && r.confirmUrl) log(`confirmation link (outbox): ${r.confirmUrl}`);
        })
        .catch((err) => log(`confirmation email: ${describeError(err)}`));
      return send(res, 200, HTML, checkInbox());
    }

    if (token && token[1] === "confirm") {
      const already = () => send(res, 200, HTML, renderNotice(config, "You are already subscribed", "This link was used before: the digest already comes to your inbox. Every email has a one-click unsubscribe link."));
      if (method === "GET") {
        const sub = findConfirmable(deps, token[2]!);
        if (!sub) return notFound(res);
        if (sub.status === "active") return already();
        return send(res, 200, HTML, confirmPage(path, sub.choices));
      }
      if (method === "POST") {
        const choices = await postedChoices(req);
        if (!choices.ok) {
          const sub = findConfirmable(deps, token[2]!);
          if (!sub) return notFound(res);
          return send(res, 400, HTML, confirmPage(path, sub.choices, choices.error));
        }
        const before = findConfirmable(deps, token[2]!);
        const outcome = confirmSubscription(deps, token[2]!, choices.choices);
        if (outcome === "not found" || !before) return notFound(res);
        if (outcome === "already") return already();
        return send(res, 200, HTML, subscribedPage("You are subscribed", before.id));
      }
    }

    if (token && token[1] === "unsubscribe") {
      if (method === "GET") {
        const id = findUnsubscribable(deps, token[2]!);
        if (id === undefined) return notFound(res);
        // A used link says so, with the way back, rather than offering a button that does nothing.
        const sub = findSubscriberById(deps.db, id);
        if (sub && sub.status !== "active" && sub.status !== "pending") return send(res, 200, HTML, unsubscribedPage(sub, true));
        // Someone who gets too much may prefer less of it to nothing.
        const preferences = preferencesLink(config, resolveSecret(deps.db, config.secret), id);
        return send(
          res,
          200,
          HTML,
          renderNotice(config, "Unsubscribe", "You will get no further digests.", {
            action: path,
            button: "Unsubscribe",
            aside: { text: "Too much mail?", link: "Get it weekly, or only your topics, instead", url: preferences },
          }),
        );
      }
      if (method === "POST") {
        const oneClick = isOneClickBody(await readBody(req));
        const id = findUnsubscribable(deps, token[2]!);
        if (id === undefined || !(await unsubscribeByToken(deps, token[2]!))) return notFound(res);
        if (oneClick) return send(res, 200, "text/plain; charset=utf-8", "Unsubscribed.\n");
        return send(res, 200, HTML, unsubscribedPage(findSubscriberById(deps.db, id)!, false));
      }
    }

    if (token && token[1] === "resubscribe") {
      const link = readUndoLink(deps, token[2]!);
      if (!link) return notFound(res);
      const sub = link.subscriber;
      if (method === "GET") {
        // GETs never change state: a link scanner opening this page undoes nothing.
        if (sub.status === "active") return send(res, 200, HTML, subscribedPage("You are subscribed", sub.id));
        return send(res, 200, HTML, unsubscribedPage(sub, true));
      }
      if (method === "POST") {
        const undone = undoUnsubscribeByToken(deps, token[2]!);
        if (undone.outcome === "not found") return notFound(res);
        if (undone.outcome === "cannot") {
          return send(
            res,
            409,
            HTML,
            renderNotice(config, "This unsubscribe cannot be undone here", `The undo works once, for your own latest unsubscribe, for ${config.undoDays} days: ${undone.why}. To get the digest again, subscribe: we send a confirmation link first.`, {
              subscribe: { email: canSubscribeAgain(undone.subscriber) ? undone.subscriber.email : "" },
            }),
          );
        }
        log(`resubscribed: subscriber #${undone.subscriber.id} took back their unsubscribe`);
        return send(res, 200, HTML, subscribedPage("You are subscribed again", undone.subscriber.id));
      }
    }

    if (token && token[1] === "preferences") {
      const sub = findByPreferencesToken(deps, token[2]!);
      if (!sub) return notFound(res);
      if (method === "GET") return send(res, 200, HTML, preferencesPage(path, sub, choicesView(sub.choices)));
      if (method === "POST") {
        const choices = await postedChoices(req);
        if (!choices.ok) {
          const shown = choices.sent ? sentChoices(choices.sent, sub.choices) : choicesView(sub.choices);
          return send(res, 400, HTML, preferencesPage(path, sub, shown, choices.error));
        }
        setChoices(deps.db, sub.id, choices.choices);
        const saved = findSubscriberById(deps.db, sub.id)!;
        return send(res, 200, HTML, preferencesPage(path, saved, choicesView(saved.choices), undefined, true));
      }
    }

    if (["/", "/subscribe", "/digests", "/healthz", "/healthz/strict", "/search", "/favicon.ico", "/favicon.svg"].includes(path) || feedFormat || token || digestMatch || paperMatch) {
      return send(res, 405, HTML, renderNotice(config, "Method not allowed", `${req.method} is not supported here.`), { Allow: "GET, HEAD, POST" });
    }
    return send(res, 404, HTML, renderNotice(config, "Not found", "There is nothing at this address."));
  }

  // The front page is the same for everyone until a new digest is published: rendered once per digest.
  // Kept as bytes: the busiest page is encoded once per digest, not once per request.
  let home: { newest: number; html: Buffer } | undefined;
  function plainHomePage(): Buffer {
    const newest = newestDigestId(deps.db);
    if (home?.newest !== newest) home = { newest, html: Buffer.from(homePage()) };
    return home.html;
  }

  function homePage(email = "", error?: string, choices?: ReturnType<typeof choicesView>): string {
    return renderPage(config, "home", "Get trending papers in your email inbox", {
      digests: archiveEntries(deps.db, 10),
      latest: latestTopPapers(config, deps.db),
      email,
      error,
      choices: choices ?? choicesView(DEFAULT_CHOICES, "s"),
      choicesOpen: Boolean(choices),
    });
  }

  function confirmPage(action: string, choices: ReaderChoices, error?: string): string {
    return renderNotice(config, "Confirm your subscription", "One more click and trending papers arrive in your inbox.", { action, button: "Confirm subscription", choices, error });
  }

  function preferencesPage(action: string, sub: Subscriber, choices: ReturnType<typeof choicesView>, error?: string, saved = false): string {
    return renderPage(config, "preferences", "Your digest", {
      action,
      // The same signed link as in an email (digest 0: from this page): unsubscribing works here too.
      unsubscribeAction: sub.status === "active" || sub.status === "pending" ? `/unsubscribe/${unsubscribeToken(resolveSecret(deps.db, config.secret), 0, sub.id)}` : null,
      email: sub.email,
      inactive: sub.status !== "active" && sub.status !== "pending",
      choices,
      error,
      saved,
      cadence: sub.choices.cadence,
    });
  }

  /** "You are subscribed": what they get, when the first email comes, where to change it. */
  function subscribedPage(title: string, id: number): string {
    const sub = findSubscriberById(deps.db, id)!;
    const preferences = preferencesLink(config, resolveSecret(deps.db, config.secret), id);
    return renderNotice(config, title, `You will get ${describeChoices(sub.choices)}. ${firstEmail(config, sub.choices.cadence, deps.clock.now())} Every email has a one-click unsubscribe link.`, {
      aside: { text: "Want something else?", link: "Change topics, daily or weekly, format", url: preferences },
    });
  }

  /**
   * "You are unsubscribed" (or already were): with a one-click undo (a signed POST)
   * while the reader's own latest unsubscribe can still be undone, else the subscribe
   * form (double opt-in).
   */
  function unsubscribedPage(sub: Subscriber, already: boolean): string {
    const title = already ? "You are already unsubscribed" : "You are unsubscribed";
    const stopped = sub.status === "unsubscribed" ? "no further digests come to this address" : "no further digests come to this address (mail to it bounced or was reported)";
    const undo = undoLink(deps, sub);
    if (undo) {
      return renderNotice(config, title, `${already ? "This link was used before: " : ""}${stopped[0]!.toUpperCase()}${stopped.slice(1)}. Changed your mind? You can undo this for ${config.undoDays} days.`, {
        action: undo,
        button: "Undo: keep getting the digest",
      });
    }
    return renderNotice(config, title, `${already ? "This link was used before: " : ""}${stopped[0]!.toUpperCase()}${stopped.slice(1)}. To get the digest again, subscribe: we send a confirmation link first.`, {
      subscribe: { email: canSubscribeAgain(sub) ? sub.email : "" },
    });
  }

  function checkInbox(): string {
    return renderNotice(config, "Check your inbox", "If that address is not subscribed yet, a confirmation link is on its way. Click it to start getting the digest.");
  }

  function archivePage(): string {
    return renderPage(config, "digests", "Digest archive", { digests: archiveEntries(deps.db, 1000) });
  }

  // Judged at most every 5 s: /healthz is open to anyone and a latest digest's ledger may be large.
  let judged: { at: number; problems: ReturnType<typeof findProblems> } | undefined;
  function currentProblems() {
    const now = deps.clock.now();
    if (!judged || Math.abs(now.getTime() - judged.at) > 5000) judged = { at: now.getTime(), problems: findProblems(deps.db, config, now) };
    return judged.problems;
  }

  /**
   * /healthz: 200 while the database answers (a load balancer keeps the site in), with
   * "degraded" and the alerts when the input or the sends have a problem;
   * /healthz/strict answers 503 then, for a monitor that pages someone.
   */
  function health(res: ServerResponse, strict: boolean): void {
    let problems;
    try {
      deps.db.prepare("SELECT count(*) FROM digests").get();
      problems = currentProblems();
    } catch (err) {
      log(`healthz: the database cannot be read: ${describeError(err)}`);
      return send(res, 503, "application/json", JSON.stringify({ ok: false, status: "down", error: `database cannot be read: ${describeError(err)}` }));
    }
    if (problems.length === 0) return send(res, 200, "application/json", JSON.stringify({ ok: true, status: "ok" }));
    send(res, strict ? 503 : 200, "application/json", JSON.stringify({ ok: !strict, status: "degraded", alerts: problems }));
  }

  function digestPage(res: ServerResponse, id: number): void {
    const html = renderDigestPage(config, deps.db, id);
    if (html === undefined) return send(res, 404, HTML, renderNotice(config, "Not found", "There is no such digest."));
    send(res, 200, HTML, html, PUBLIC);
  }

  function paperPage(res: ServerResponse, slug: string): void {
    const found = findPaperBySlug(deps.db, slug);
    if (!found) return send(res, 404, HTML, renderNotice(config, "Not found", "There is no such paper here. Search for it with the box above."));
    if (found.moved) return send(res, 301, "text/plain; charset=utf-8", "Moved.\n", { Location: `/papers/${found.paper.slug}` });
    send(res, 200, HTML, renderPaperPage(config, deps.db, found.paper), PUBLIC);
  }

  function searchPage(res: ServerResponse, params: URLSearchParams): void {
    const page = Number(params.get("page") ?? "1");
    // Any page number that is not a small whole number is the first page: a query is data, never an error.
    const n = Number.isInteger(page) && page >= 1 && page <= 500 ? page : 1;
    send(res, 200, HTML, renderSearchPage(config, deps.db, params.get("q") ?? "", n));
  }

  const server = createServer((req, res) => {
    if (deps.metrics) {
      const counter = deps.metrics.httpRequests;
      res.once("finish", () => counter.inc({ route: routeOf(requestUrl(req)?.pathname ?? ""), status: String(res.statusCode) }));
    }
    route(req, res).catch((err) => answerError(req, res, err, log));
  });
  // A request line that cannot be parsed gets a plain 400, not a dropped connection.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === "ECONNRESET") return socket.destroy();
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n\r\nBad request\n");
  });
  // Unsubscribes journalled while another process held the write lock land as soon as it is free.
  const journal = journalDir(config.dbPath);
  const applyJournal = setInterval(() => {
    try {
      const n = applyJournalledUnsubscribes(deps.db, journal, log);
      if (n > 0) log(`applied ${n} unsubscribe${n === 1 ? "" : "s"} that arrived while the database was busy`);
    } catch (err) {
      log(`unsubscribe journal: ${describeError(err)}`);
    }
  }, 2000);
  applyJournal.unref();
  server.on("close", () => clearInterval(applyJournal));
  return server;
}
