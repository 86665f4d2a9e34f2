import { createServer, type Server } from "node:http";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import type { Metrics } from "../metrics/registry.js";
import { requestUrl, send } from "./http.js";
import { serveMetrics } from "./metrics-route.js";
import { createConsole } from "./admin/console.js";
import type { Db } from "../store/db.js";
import type { Clock } from "../util/time.js";

export interface AdminAppDeps {
  db: Db;
  config: Config;
  clock: Clock;
  metrics: Metrics;
  log?: (line: string) => void;
}

/**
 * The operators' listener (PAPERMAIL_ADMIN_HOST, e.g. 127.0.0.1 only): /metrics without
 * a token unless PAPERMAIL_METRICS_TOKEN is set, and the console (/admin) when a
 * password is configured. Nothing here is for readers.
 */
export function createAdminApp(deps: AdminAppDeps): Server {
  const log = deps.log ?? (() => undefined);
  const operatorConsole = createConsole({ db: deps.db, config: deps.config, clock: deps.clock, log });
  return createServer((req, res) => {
    const url = requestUrl(req);
    if (!url) return send(res, 400, "text/plain; charset=utf-8", "Bad request target.\n");
    const path = url.pathname;
    const done = (p: Promise<void> | void) =>
      Promise.resolve(p).catch((err) => {
        log(`admin: error on ${req.method} ${path}: ${describeError(err)}`);
        if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "Internal error.\n");
      });
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) return void done(serveMetrics(req, res, deps.metrics, deps.config.metricsToken));
    void done(
      operatorConsole(req, res, url).then((answered) => {
        if (!answered) send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
      }),
    );
  });
}
