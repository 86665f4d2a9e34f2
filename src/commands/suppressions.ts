import { PapermailError } from "../errors.js";
import { listSubscribers, SUPPRESSED, type Subscriber } from "../store/subscribers.js";
import { liftAddress, suppressAddress } from "../subscribers/manage.js";
import { EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail suppressions list`: every address that gets no mail (unsubscribed, bounced, complained), with why. */
export function runSuppressionsList(ctx: CommandContext, flags: { json: boolean }): number {
  const rows = SUPPRESSED.flatMap((status) => listSubscribers(ctx.db, status)).sort((a, b) => a.id - b.id);
  if (flags.json) printJson(ctx, rows.map(view));
  else if (rows.length === 0) ctx.out("The suppression list is empty.");
  else
    for (const s of rows) {
      const label = s.suppressedBy === "operator" ? `suppressed (${s.status})` : s.status;
      ctx.out(`${label.padEnd(13)} ${s.email}  ${s.suppressedReason ?? (s.status === "unsubscribed" ? "unsubscribed" : "")} ${s.suppressedAt ?? s.unsubscribedAt ?? ""}`.trimEnd());
    }
  return EXIT.ok;
}

/** `papermail suppressions add EMAIL... [--reason TEXT]`: these addresses get nothing from now on. */
export function runSuppressionsAdd(ctx: CommandContext, emails: string[], flags: { reason?: string }): number {
  const at = ctx.clock.now().toISOString();
  let refused = 0;
  for (const input of emails) {
    const r = suppressAddress(ctx.db, input, flags.reason, at);
    if (r.outcome === "refused") {
      ctx.err(`refused: "${r.input}" ${r.why}`);
      refused++;
    } else if (r.outcome === "already") ctx.out(`${r.address} was already suppressed by you (${r.status}); the reason is now yours of today`);
    else ctx.out(`suppressed ${r.address}${r.was ? ` (was ${r.was})` : ""}`);
  }
  return refused > 0 ? EXIT.rejected : EXIT.ok;
}

/**
 * `papermail suppressions remove EMAIL...`: lifts the suppression. Nobody is made
 * active: the address becomes pending, and may subscribe again by double opt-in
 * (or `subscribers add --confirmed` if they asked you).
 */
export function runSuppressionsRemove(ctx: CommandContext, emails: string[]): number {
  let missing = 0;
  for (const input of emails) {
    const r = liftAddress(ctx.db, input, ctx.clock.now().toISOString());
    if (r.outcome === "not suppressed") {
      ctx.err(`${r.input} is not on the suppression list`);
      missing++;
      continue;
    }
    ctx.out(`removed ${r.address} from the suppression list (was ${r.was}; now pending: they can subscribe again)`);
  }
  if (missing > 0 && missing === emails.length) throw new PapermailError("NOT_FOUND", "no given address is on the suppression list");
  return missing > 0 ? EXIT.rejected : EXIT.ok;
}

function view(s: Subscriber) {
  return {
    email: s.email,
    status: s.status,
    byOperator: s.suppressedBy === "operator",
    reason: s.suppressedReason ?? (s.status === "unsubscribed" ? "unsubscribed" : null),
    since: s.suppressedAt ?? s.unsubscribedAt,
  };
}
