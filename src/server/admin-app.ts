import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Config } from "../config/load.js";
import type { Metrics } from "../metrics/registry.js";
import { requestUrl, send } from "./http.js";
import { answerError } from "./errors.js";
import { serveMetrics } from "./routes/metrics.js";
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
 * The host names the admin listener answers to: its own address, the loopback names,
 * and those the operator lists (PAPERMAIL_ADMIN_ALLOWED_HOSTS). A page in the
 * operator's browser that rebinds its own name to 127.0.0.1 sends its own name as
 * Host, and gets nothing.
 */
export function adminHosts(config: Config): Set<string> {
  const names = ["localhost", "127.0.0.1", "[::1]", ...config.adminAllowedHosts];
  if (config.admin) names.push(config.admin.host.includes(":") && !config.admin.host.startsWith("[") ? `[${config.admin.host}]` : config.admin.host);
  return new Set(names.map((n) => n.toLowerCase()));
}

/** The host name of a request's Host header, without its port; undefined when there is none. */
export function hostName(req: IncomingMessage): string | undefined {
  const host = req.headers.host?.trim().toLowerCase();
  if (!host) return undefined;
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::\d{1,5})?$/.exec(host);
  return m?.[1];
}

/**
 * The operators' listener (PAPERMAIL_ADMIN_HOST, e.g. 127.0.0.1 only): /metrics without
 * a token unless PAPERMAIL_METRICS_TOKEN is set, and the console (/admin) when a
 * password is configured. Nothing here is for readers. It answers only the host names
 * of adminHosts (421 otherwise), and maps errors as the site does.
 */
export function createAdminApp(deps: AdminAppDeps): Server {
  const log = deps.log ?? (() => undefined);
  const allowed = adminHosts(deps.config);
  const operatorConsole = createConsole({ db: deps.db, config: deps.config, clock: deps.clock, log });
  return createServer((req, res) => {
    const host = hostName(req);
    if (!host || !allowed.has(host)) {
      return send(res, 421, "text/plain; charset=utf-8", "This listener answers only its own host names (PAPERMAIL_ADMIN_ALLOWED_HOSTS adds more).\n");
    }
    const url = requestUrl(req);
    if (!url) return send(res, 400, "text/plain; charset=utf-8", "Bad request target.\n");
    const path = url.pathname;
    const done = (p: Promise<void> | void) => Promise.resolve(p).catch((err) => answerError(req, res, err, log, "admin: "));
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) return void done(serveMetrics(req, res, deps.metrics, deps.config.metricsToken));
    void done(
      operatorConsole(req, res, url).then((answered) => {
        if (!answered) send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
      }),
    );
  });
}
