import { sameSecret } from "../../util/tokens.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Metrics } from "../../metrics/registry.js";
import { send } from "../http.js";

/** True when the request carries `Authorization: Bearer TOKEN` with this token (compared in constant time). */
function bearerMatches(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!m) return false;
  return sameSecret(m[1]!, token);
}

/** GET /metrics: the Prometheus exposition, behind the bearer token when one is configured. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: Metrics, token: string | undefined): Promise<void> {
  if (token !== undefined && !bearerMatches(req, token)) {
    return send(res, 401, "text/plain; charset=utf-8", "A bearer token is needed (PAPERMAIL_METRICS_TOKEN).\n", { "WWW-Authenticate": 'Bearer realm="papermail metrics"' });
  }
  send(res, 200, metrics.contentType, await metrics.render());
}
