import { createServer, type Server } from "node:http";
import { routeOf } from "../metrics/registry.js";
import { createConsole } from "./admin/console.js";
import { answerError } from "./errors.js";
import { HttpError, requestUrl, send } from "./http.js";
import { serveMetrics } from "./routes/metrics.js";
import { renderNotice } from "./pages.js";
import { healthRoutes } from "./routes/health.js";
import { preferencesRoutes } from "./routes/preferences.js";
import { readingRoutes } from "./routes/reading.js";
import { dispatch, type Route } from "./routes/route.js";
import { subscribeRoutes } from "./routes/subscribe.js";
import { unsubscribeRoutes } from "./routes/unsubscribe.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { createSitePages, HTML, type AppDeps } from "./site-pages.js";

export type { AppDeps } from "./site-pages.js";

/**
 * The site: subscribe (double opt-in), confirm, unsubscribe (with RFC 8058 one-click),
 * the feeds, the digest archive, paper pages, search and a health check. GETs never
 * change state. Each route lives in routes/; this file only puts them in order.
 */
export function createApp(deps: AppDeps): Server {
  const { config } = deps;
  const log = deps.log ?? (() => undefined);
  const pages = createSitePages(deps);
  // The console lives here unless it has a listener of its own (PAPERMAIL_ADMIN_HOST).
  const operatorConsole = config.admin ? undefined : createConsole({ db: deps.db, config, clock: deps.clock, log });
  const routes: Route[] = [
    ...readingRoutes(deps, pages),
    ...healthRoutes(deps),
    ...subscribeRoutes(deps, pages),
    ...unsubscribeRoutes(deps, pages),
    ...preferencesRoutes(deps, pages),
    ...webhookRoutes(deps),
  ];
  // On the public address only with the token; without one, /metrics lives on the admin listener alone.
  const { metrics } = deps;
  if (metrics && config.metricsToken) {
    const token = config.metricsToken;
    routes.push({ path: "/metrics", GET: (req, res) => serveMetrics(req, res, metrics, token) });
  } else {
    // A 404 that says where the metrics are, rather than leaving the operator to guess.
    const where = config.admin ? `on the admin listener (http://${config.admin.host}:${config.admin.port}/metrics)` : "once PAPERMAIL_METRICS_TOKEN is set (then with that bearer token), or on an admin listener (PAPERMAIL_ADMIN_HOST)";
    routes.push({ path: "/metrics", GET: (_req, res) => send(res, 404, "text/plain; charset=utf-8", `Not here: /metrics is served ${where}.\n`) });
  }

  const server = createServer((req, res) => {
    if (metrics) res.once("finish", () => metrics.httpRequests.inc({ route: routeOf(requestUrl(req)?.pathname ?? ""), status: String(res.statusCode) }));
    (async () => {
      const url = requestUrl(req);
      if (!url) throw new HttpError(400, "bad request target");
      if (operatorConsole && (await operatorConsole(req, res, url))) return;
      const r = await dispatch(routes, req, res, url);
      if (r.answered) return;
      if (r.allow) return send(res, 405, HTML, renderNotice(config, "Method not allowed", `${req.method} is not supported here.`), { Allow: r.allow });
      send(res, 404, HTML, renderNotice(config, "Not found", "There is nothing at this address."));
    })().catch((err) => answerError(req, res, err, log));
  });
  // A request line that cannot be parsed gets a plain 400, not a dropped connection.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === "ECONNRESET") return socket.destroy();
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n\r\nBad request\n");
  });
  return server;
}
