import { createServer, type Server } from "node:http";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import type { Metrics } from "../metrics/registry.js";
import { send } from "./http.js";
import { serveMetrics } from "./metrics-route.js";

export interface AdminAppDeps {
  config: Config;
  metrics: Metrics;
  log?: (line: string) => void;
}

/**
 * The operators' listener (PAPERMAIL_ADMIN_HOST, e.g. 127.0.0.1 only): /metrics without
 * a token unless PAPERMAIL_METRICS_TOKEN is set. Nothing here is for readers.
 */
export function createAdminApp(deps: AdminAppDeps): Server {
  const log = deps.log ?? (() => undefined);
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const done = (p: Promise<void> | void) =>
      Promise.resolve(p).catch((err) => {
        log(`admin: error on ${req.method} ${path}: ${describeError(err)}`);
        if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "Internal error.\n");
      });
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) return void done(serveMetrics(req, res, deps.metrics, deps.config.metricsToken));
    send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
  });
}
