import { PapermailError } from "../errors.js";
import {
  addSuppressedAddress,
  findSubscriberByEmail,
  liftSuppression,
  listSubscribers,
  suppressSubscriber,
  SUPPRESSED,
  type Subscriber,
} from "../store/subscribers.js";
import { checkAddress } from "../model/address.js";
import { EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail suppressions list`: every address that gets no mail (unsubscribed, bounced, complained), with why. */
export function runSuppressionsList(ctx: CommandContext, flags: { json: boolean }): number {
  const rows = SUPPRESSED.flatMap((status) => listSubscribers(ctx.db, status)).sort((a, b) => a.id - b.id);
  if (flags.json) printJson(ctx, rows.map(view));
  else if (rows.length === 0) ctx.out("The suppression list is empty.");
  else for (const s of rows) ctx.out(`${s.status.padEnd(13)} ${s.email}  ${s.suppressedReason ?? (s.status === "unsubscribed" ? "unsubscribed" : "")} ${s.suppressedAt ?? s.unsubscribedAt ?? ""}`.trimEnd());
  return EXIT.ok;
}

/** `papermail suppressions add EMAIL... [--reason TEXT]`: these addresses get nothing from now on. */
export function runSuppressionsAdd(ctx: CommandContext, emails: string[], flags: { reason?: string }): number {
  const at = ctx.clock.now().toISOString();
  let refused = 0;
  for (const input of emails) {
    const check = checkAddress(input);
    if (!check.ok) {
      ctx.err(`refused: "${input}" ${check.reason}`);
      refused++;
      continue;
    }
    const sub = findSubscriberByEmail(ctx.db, check.address);
    if (!sub) {
      // An address never on the list can be suppressed ahead of time.
      addSuppressedAddress(ctx.db, check.address, flags.reason ?? "added by the operator", at);
      ctx.out(`suppressed ${check.address}`);
    } else if (SUPPRESSED.includes(sub.status)) ctx.out(`${check.address} is already on the suppression list (${sub.status})`);
    else {
      suppressSubscriber(ctx.db, sub.id, "unsubscribed", flags.reason ?? "added by the operator", at, "operator");
      ctx.out(`suppressed ${check.address} (was ${sub.status})`);
    }
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
    const check = checkAddress(input);
    const sub = check.ok ? findSubscriberByEmail(ctx.db, check.address) : undefined;
    if (!sub || !SUPPRESSED.includes(sub.status)) {
      ctx.err(`${check.ok ? check.address : input} is not on the suppression list`);
      missing++;
      continue;
    }
    liftSuppression(ctx.db, sub.id);
    ctx.out(`removed ${sub.email} from the suppression list (was ${sub.status}; now pending: they can subscribe again)`);
  }
  if (missing > 0 && missing === emails.length) throw new PapermailError("NOT_FOUND", "no given address is on the suppression list");
  return missing > 0 ? EXIT.rejected : EXIT.ok;
}

function view(s: Subscriber) {
  return { email: s.email, status: s.status, reason: s.suppressedReason ?? (s.status === "unsubscribed" ? "unsubscribed" : null), since: s.suppressedAt ?? s.unsubscribedAt };
}
