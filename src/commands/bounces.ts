import { describeMailbox, fetchBounces } from "../bounces/imap.js";
import { processBounce, type BounceOutcome } from "../bounces/process.js";
import { readMessageSources } from "../bounces/sources.js";
import { PapermailError } from "../errors.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

type Outcome = BounceOutcome | { origin: string; status: "unreadable"; reason: string; entries: [] };

/** `papermail bounces ingest PATH... [--dry-run]`: bounce and complaint messages from .eml files, maildirs and mbox files. */
export async function runBouncesIngest(ctx: CommandContext, paths: string[], flags: { json: boolean; dryRun?: boolean }): Promise<number> {
  const outcomes: Outcome[] = [];
  for (const source of readMessageSources(paths, ctx.config.bounceMaxBytes)) {
    if ("error" in source) outcomes.push({ origin: source.origin, status: "unreadable", reason: source.error, entries: [] });
    else outcomes.push(await processBounce(ctx, source.raw, source.origin, { dryRun: flags.dryRun }));
    if (!flags.json) describe(ctx, outcomes[outcomes.length - 1]!, flags.dryRun ?? false);
  }
  return finish(ctx, outcomes, flags);
}

/** `papermail bounces fetch`: reads PAPERMAIL_BOUNCE_MAILBOX once, as the scheduler does. */
export async function runBouncesFetch(ctx: CommandContext, flags: { json: boolean }): Promise<number> {
  if (!ctx.config.bounceMailbox) throw new PapermailError("CONFIG", "PAPERMAIL_BOUNCE_MAILBOX is not set: nothing to fetch (see `papermail --help`)", { variable: "PAPERMAIL_BOUNCE_MAILBOX" });
  if (!flags.json) ctx.err(`Reading ${describeMailbox(ctx.config.bounceMailbox)} ...`);
  const run = await fetchBounces(ctx, (o) => !flags.json && describe(ctx, o, false));
  if (run.stopped && !flags.json) ctx.err(`stopped: ${run.stopped}`);
  return Math.max(finish(ctx, run.outcomes, flags, run.stopped), run.stopped ? EXIT.rejected : EXIT.ok);
}

const WOULD: Record<BounceOutcome["entries"][number]["effect"], string> = {
  bounced: "-> bounced",
  complained: "-> complained",
  unsubscribed: "-> unsubscribed",
  "soft-counted": "soft bounce counted",
  "sender-counted": "refusal of our side counted",
  none: "nothing",
};

function describe(ctx: CommandContext, o: Outcome, dryRun: boolean): void {
  const origin = displayPath(o.origin);
  const label = (dryRun && o.status === "applied" ? "would apply" : o.status).padEnd(12);
  if (o.status === "unrecognised" || o.status === "unreadable") return ctx.err(`${label} ${origin}: ${o.reason} (left as it is)`);
  if (o.status === "duplicate") return ctx.out(`${label} ${origin}: ${o.reason ?? "read before"}, nothing changed`);
  if (o.entries.length === 0) return ctx.out(`${label} ${origin}: ${o.reason ?? ""}`);
  for (const e of o.entries) {
    const what = `${e.kind} (${e.reason}${e.statusCode ? ` ${e.statusCode}` : ""})`;
    const who = e.subscriber ?? e.recipient ?? "no address";
    const proof = e.proof ? `proof: ${e.proof}` : "no proof";
    const effect = e.effect === "none" ? `nothing${e.note ? `: ${e.note}` : ""}` : `${WOULD[e.effect]}${e.note ? ` (${e.note})` : ""}`;
    ctx.out(`${label} ${origin}: ${what} for ${who}; ${proof}; ${dryRun ? "would do " : ""}${effect}`);
  }
}

function finish(ctx: CommandContext, outcomes: Outcome[], flags: { json: boolean; dryRun?: boolean }, stopped?: string): number {
  const totals = { messages: outcomes.length, applied: 0, unverified: 0, notABounce: 0, duplicate: 0, unrecognised: 0, unreadable: 0 };
  for (const o of outcomes) {
    if (o.status === "not-a-bounce") totals.notABounce++;
    else totals[o.status]++;
  }
  if (flags.json) printJson(ctx, { dryRun: flags.dryRun ?? false, messages: outcomes, totals, ...(stopped ? { stopped } : {}) });
  else {
    ctx.out(
      `${totals.messages} message(s): ${totals.applied} ${flags.dryRun ? "would apply" : "applied"}, ${totals.unverified} unverified (changed nobody), ${totals.notABounce} not a bounce, ` +
        `${totals.duplicate} read before, ${totals.unrecognised} not recognised, ${totals.unreadable} unreadable.${flags.dryRun ? " Dry run: nothing was changed." : ""}`,
    );
  }
  return totals.unrecognised + totals.unreadable > 0 ? EXIT.rejected : EXIT.ok;
}
