import type { ServerResponse } from "node:http";
import { findProblems } from "../../alarms/drift.js";
import { describeError } from "../../errors.js";
import { assertReadable } from "../../store/db.js";
import { send } from "../http.js";
import type { AppDeps } from "../site-pages.js";
import type { Route } from "./route.js";

/**
 * /healthz: 200 while the database answers (a load balancer keeps the site in), with
 * "degraded" and the alerts when the input or the sends have a problem;
 * /healthz/strict answers 503 then, for a monitor that pages someone.
 */
export function healthRoutes(deps: AppDeps): Route[] {
  const log = deps.log ?? (() => undefined);
  // Judged at most every 5 s: /healthz is open to anyone and a latest digest's ledger may be large.
  let judged: { at: number; problems: ReturnType<typeof findProblems> } | undefined;
  function currentProblems() {
    const now = deps.clock.now();
    if (!judged || Math.abs(now.getTime() - judged.at) > 5000) judged = { at: now.getTime(), problems: findProblems(deps.db, deps.config, now) };
    return judged.problems;
  }

  function health(res: ServerResponse, strict: boolean): void {
    let problems;
    try {
      assertReadable(deps.db);
      problems = currentProblems();
    } catch (err) {
      log(`healthz: the database cannot be read: ${describeError(err)}`);
      return send(res, 503, "application/json", JSON.stringify({ ok: false, status: "down", error: `database cannot be read: ${describeError(err)}` }));
    }
    if (problems.length === 0) return send(res, 200, "application/json", JSON.stringify({ ok: true, status: "ok" }));
    send(res, strict ? 503 : 200, "application/json", JSON.stringify({ ok: !strict, status: "degraded", alerts: problems }));
  }

  return [
    { path: "/healthz", GET: (_req, res) => health(res, false) },
    { path: "/healthz/strict", GET: (_req, res) => health(res, true) },
  ];
}
