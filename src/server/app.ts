import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { z } from "zod";
import type { Config } from "../config.js";
import { digestLinks } from "../render/links.js";
import type { Mailer } from "../deliver/mailer.js";
import { describeError } from "../errors.js";
import { isBusy } from "../store/busy.js";
import { neutralise } from "../util/neutralise.js";
import { fillRecipient, renderDigest } from "../render/email.js";
import type { Db } from "../store/db.js";
import { digestPapers, findDigest, listDigests } from "../store/digests.js";
import {
  confirmSubscription,
  findConfirmable,
  findUnsubscribable,
  requestSubscription,
  unsubscribeByToken,
} from "../subscribers/subscribe.js";
import type { Clock } from "../util/time.js";
import { createFeedHandler, FEED_PATHS } from "./feed-route.js";
import { clientAddress, createRateLimiter, HttpError, isOneClickBody, readBody, readForm, send } from "./http.js";
import { renderNotice, renderPage } from "./pages.js";

export interface AppDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** Where confirmation emails go; the configured transport when omitted. */
  mailer?: Mailer;
  log?: (line: string) => void;
}

const HTML = "text/html; charset=utf-8";
/** The subscribe form: an address field and the honeypot. */
const SUBSCRIBE_FORM = z.object({
  email: z.string().max(320, "the address is too long").default(""),
  website: z.string().max(2000).default(""),
});
/** Form posts per client address in 15 minutes. */
const SUBSCRIBE_LIMIT = 5;

/**
 * The site: subscribe (double opt-in), confirm, unsubscribe (with RFC 8058 one-click),
 * the RSS feed, the digest archive and a health check. GETs never change state.
 */
export function createApp(deps: AppDeps): Server {
  const { config } = deps;
  const feed = createFeedHandler(deps.db, config);
  const limiter = createRateLimiter(SUBSCRIBE_LIMIT, 15 * 60_000);
  const log = deps.log ?? (() => undefined);
  const notFound = (res: ServerResponse) =>
    send(res, 404, HTML, renderNotice(config, "Link not found", "This link is not valid, has expired, or was already used."));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      throw new HttpError(400, "bad request target");
    }
    const path = url.pathname;
    const method = req.method === "HEAD" ? "GET" : req.method;
    const token = /^\/(confirm|unsubscribe)\/([^/]+)$/.exec(path);

    if (method === "GET" && path === "/") return send(res, 200, HTML, homePage());
    if (method === "GET" && path === "/healthz") return health(res);
    const feedFormat = FEED_PATHS[path];
    if (method === "GET" && feedFormat) return feed(req, res, feedFormat, url.searchParams);
    if (method === "GET" && path === "/digests") return send(res, 200, HTML, archivePage());
    const digestMatch = /^\/digests\/(\d{1,9})$/.exec(path);
    if (method === "GET" && digestMatch) return digestPage(res, Number(digestMatch[1]));

    if (method === "POST" && path === "/subscribe") {
      const parsed = SUBSCRIBE_FORM.safeParse(Object.fromEntries(await readForm(req)));
      if (!parsed.success) return send(res, 400, HTML, homePage("", `That form is not valid: ${parsed.error.issues[0]!.message}.`));
      const form = parsed.data;
      // A filled honeypot is a bot: it gets the usual answer and nothing happens.
      if (form.website) return send(res, 200, HTML, checkInbox());
      if (!limiter.allow(clientAddress(req, config.trustProxy))) {
        return send(res, 429, HTML, renderNotice(config, "Slow down", "Too many subscription requests from your address. Try again in a few minutes."), {
          "Retry-After": "900",
        });
      }
      const result = requestSubscription(deps, form.email);
      if ("error" in result) return send(res, 400, HTML, homePage(form.email, result.error));
      result.sending
        .then((r) => {
          if (r.status === "failed") log(`confirmation email not sent (the next request will try again): ${r.error}`);
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
        return send(res, 200, HTML, renderNotice(config, "Confirm your subscription", "One more click and trending papers arrive in your inbox.", { action: path, button: "Confirm subscription" }));
      }
      if (method === "POST") {
        const outcome = confirmSubscription(deps, token[2]!);
        if (outcome === "not found") return notFound(res);
        if (outcome === "already") return already();
        return send(res, 200, HTML, renderNotice(config, "You are subscribed", "The next digest will be in your inbox. Every email has a one-click unsubscribe link."));
      }
    }

    if (token && token[1] === "unsubscribe") {
      if (method === "GET") {
        if (findUnsubscribable(deps, token[2]!) === undefined) return notFound(res);
        return send(res, 200, HTML, renderNotice(config, "Unsubscribe", "You will get no further digests.", { action: path, button: "Unsubscribe" }));
      }
      if (method === "POST") {
        const oneClick = isOneClickBody(await readBody(req));
        if (!unsubscribeByToken(deps, token[2]!)) return notFound(res);
        if (oneClick) return send(res, 200, "text/plain; charset=utf-8", "Unsubscribed.\n");
        return send(res, 200, HTML, renderNotice(config, "You are unsubscribed", "You will get no further digests. Changed your mind? Subscribe again on the front page."));
      }
    }

    if (["/", "/subscribe", "/digests", "/healthz"].includes(path) || feedFormat || token || digestMatch) {
      return send(res, 405, HTML, renderNotice(config, "Method not allowed", `${req.method} is not supported here.`), { Allow: "GET, HEAD, POST" });
    }
    return send(res, 404, HTML, renderNotice(config, "Not found", "There is nothing at this address."));
  }

  function homePage(email = "", error?: string): string {
    const digests = listDigests(deps.db, 10).map((d) => ({ subject: d.subject, url: `/digests/${d.id}`, date: d.createdAt.slice(0, 10) }));
    return renderPage(config, "home", "Get trending papers in your email inbox", { digests, email, error });
  }

  function checkInbox(): string {
    return renderNotice(config, "Check your inbox", "If that address is not subscribed yet, a confirmation link is on its way. Click it to start getting the digest.");
  }

  function archivePage(): string {
    const digests = listDigests(deps.db, 1000).map((d) => ({ subject: d.subject, url: `/digests/${d.id}`, date: d.createdAt.slice(0, 10), paperCount: d.paperCount }));
    return renderPage(config, "digests", "Digest archive", { digests });
  }

  /** The database answers a read: the one thing the site cannot work without. */
  function health(res: ServerResponse): void {
    try {
      deps.db.prepare("SELECT count(*) FROM digests").get();
      send(res, 200, "application/json", JSON.stringify({ ok: true }));
    } catch (err) {
      log(`healthz: the database cannot be read: ${describeError(err)}`);
      send(res, 503, "application/json", JSON.stringify({ ok: false, error: `database cannot be read: ${describeError(err)}` }));
    }
  }

  async function digestPage(res: ServerResponse, id: number): Promise<void> {
    const digest = findDigest(deps.db, id);
    if (!digest) return send(res, 404, HTML, renderNotice(config, "Not found", "There is no such digest."));
    // The web page holds every paper: the size budget is the email's, not the archive's.
    const rendered = await renderDigest(digest.subject, digestPapers(deps.db, id), digestLinks(config, id), { budgetBytes: Infinity, thumbnails: config.thumbnails });
    const { html } = fillRecipient(rendered, { recipient: "a reader", unsubscribeUrl: `${config.publicUrl}/`, preferencesUrl: `${config.publicUrl}/` });
    send(res, 200, HTML, html, { "Cache-Control": "public, max-age=3600" });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return send(res, err.status, "text/plain; charset=utf-8", `${err.message}\n`);
      // Another process holds the write lock (a long ingest): ask the client to come back, don't fail.
      if (isBusy(err)) return send(res, 503, "text/plain; charset=utf-8", "Busy, try again in a few seconds.\n", { "Retry-After": "5" });
      log(`error on ${req.method} ${neutralise(String(req.url))}: ${describeError(err)}`);
      send(res, 500, "text/plain; charset=utf-8", "Internal error.\n");
    });
  });
  // A request line that cannot be parsed gets a plain 400, not a dropped connection.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === "ECONNRESET") return socket.destroy();
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n\r\nBad request\n");
  });
  return server;
}
