import type { IncomingMessage, ServerResponse } from "node:http";
import { describeError } from "../errors.js";
import { isBusy } from "../store/busy.js";
import { neutralise } from "../util/neutralise.js";
import { HttpError, send } from "./http.js";

/**
 * How both listeners answer a request that failed: the client's own mistake (a body too
 * large, a form of the wrong type, a bad target) is its 4xx and no log line; another
 * process holding the write lock is 503 with Retry-After; anything else is logged and 500.
 */
export function answerError(req: IncomingMessage, res: ServerResponse, err: unknown, log: (line: string) => void, prefix = ""): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof HttpError) return send(res, err.status, "text/plain; charset=utf-8", `${err.message}\n`);
  // Another process holds the write lock (a long ingest): ask the client to come back, don't fail.
  if (isBusy(err)) return send(res, 503, "text/plain; charset=utf-8", "Busy, try again in a few seconds.\n", { "Retry-After": "5" });
  log(`${prefix}error on ${req.method} ${neutralise(String(req.url))}: ${describeError(err)}`);
  send(res, 500, "text/plain; charset=utf-8", "Internal error.\n");
}
