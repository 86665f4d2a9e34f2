import type { ServerResponse } from "node:http";
import { z } from "zod";
import { listSubscribers, SUPPRESSED } from "../../store/subscribers.js";
import { liftAddress, suppressAddress } from "../../subscribers/manage.js";
import type { Session } from "./auth.js";
import type { ConsoleDeps, ConsoleKit, ConsoleRoute } from "./kit.js";

/** The suppression form: the reason is shown in lists and exports, so it is one short line. */
const SUPPRESS_FORM = z.object({
  email: z.string().max(320, "the address is too long").default(""),
  reason: z
    .string()
    .max(200, "the reason is at most 200 characters")
    .regex(/^[^\x00-\x1f\x7f]*$/, "the reason must be one line without control characters")
    .optional(),
});

/** The suppression list: who gets no mail and why, adding an address and lifting one. */
export function suppressionRoutes(deps: ConsoleDeps, kit: ConsoleKit): ConsoleRoute[] {
  const { db } = deps;

  function suppressionsPage(res: ServerResponse, s: Session, notice?: string, error?: string, status = 200): void {
    const rows = SUPPRESSED.flatMap((st) => listSubscribers(db, st))
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ email: r.email, status: r.suppressedBy === "operator" ? `suppressed (${r.status})` : r.status, reason: r.suppressedReason ?? (r.status === "unsubscribed" ? "unsubscribed" : ""), since: r.suppressedAt ?? r.unsubscribedAt ?? "" }));
    kit.page(res, status, "admin-suppressions", "Suppressions", { signedIn: true, csrf: s.csrf, rows, notice, error });
  }

  return [
    { path: "/admin/suppressions", GET: ({ res, session }) => suppressionsPage(res, session) },
    {
      path: "/admin/suppressions/add",
      POST({ req, res, session: s, form, at }) {
        const fields = SUPPRESS_FORM.safeParse(Object.fromEntries(form));
        if (!fields.success) return suppressionsPage(res, s, undefined, `That form is not valid: ${fields.error.issues[0]!.message}.`, 400);
        const r = suppressAddress(db, fields.data.email, fields.data.reason?.trim() || undefined, at);
        if (r.outcome === "refused") return suppressionsPage(res, s, undefined, `"${r.input}" ${r.why}.`, 400);
        deps.log(`admin: ${kit.who(req)} suppressed ${r.address}${r.outcome === "already" ? " again (new reason)" : ""}`);
        if (r.outcome === "already") return suppressionsPage(res, s, `${r.address} was already suppressed; the reason is updated.`);
        suppressionsPage(res, s, `Suppressed ${r.address}.`);
      },
    },
    {
      path: "/admin/suppressions/lift",
      POST({ req, res, session: s, form, at }) {
        const r = liftAddress(db, form.get("email") ?? "", at);
        if (r.outcome !== "lifted") return suppressionsPage(res, s, undefined, `${r.input} is not on the suppression list.`, 400);
        deps.log(`admin: ${kit.who(req)} lifted the suppression of ${r.address} (was ${r.was})`);
        suppressionsPage(res, s, `Lifted: ${r.address} is pending and may subscribe again.`);
      },
    },
  ];
}
