import { describeMailbox, fetchBounces } from "../bounces/imap.js";
import { processBounce, type BounceOutcome } from "../bounces/process.js";
import { readMessageSources } from "../bounces/sources.js";
import { PapermailError } from "../errors.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail bounces ingest PATH...`: bounce and complaint messages from .eml files, maildirs and mbox files. */
export async function runBouncesIngest(ctx: CommandContext, paths: string[], flags: { json: boolean }): Promise<number> {
  const outcomes: Array<BounceOutcome | { origin: string; status: "unreadable"; reason: string; events: [] }> = [];
  for (const source of readMessageSources(paths)) {
    if ("error" in source) outcomes.push({ origin: source.origin, status: "unreadable", reason: source.error, events: [] });
    else outcomes.push(await processBounce(ctx, source.raw, source.origin));
    if (!flags.json) describe(ctx, outcomes[outcomes.length - 1]!);
  }
  return finish(ctx, outcomes, flags.json);
}

/** `papermail bounces fetch`: reads PAPERMAIL_BOUNCE_MAILBOX once, as the scheduler does. */
export async function runBouncesFetch(ctx: CommandContext, flags: { json: boolean }): Promise<number> {
  if (!ctx.config.bounceMailbox) throw new PapermailError("CONFIG", "PAPERMAIL_BOUNCE_MAILBOX is not set: nothing to fetch (see `papermail --help`)", { variable: "PAPERMAIL_BOUNCE_MAILBOX" });
  if (!flags.json) ctx.err(`Reading ${describeMailbox(ctx.config.bounceMailbox)} ...`);
  const outcomes = await fetchBounces(ctx, (o) => !flags.json && describe(ctx, o));
  return finish(ctx, outcomes, flags.json);
}

function describe(ctx: CommandContext, o: BounceOutcome | { origin: string; status: "unreadable"; reason: string }): void {
  const origin = displayPath(o.origin);
  if (o.status === "unrecognised" || o.status === "unreadable") return ctx.err(`${o.status.padEnd(12)} ${origin}: ${o.reason} (left as it is)`);
  if (o.status === "duplicate") return ctx.out(`${"duplicate".padEnd(12)} ${origin}: read before, nothing changed`);
  for (const e of (o as BounceOutcome).events) {
    const what = e.kind === "complaint" ? "complaint" : `${e.kind} bounce${e.statusCode ? ` ${e.statusCode}` : ""}`;
    ctx.out(`${"applied".padEnd(12)} ${origin}: ${what} for ${e.email}${e.became ? ` -> ${e.became}` : ""}`);
  }
}

function finish(ctx: CommandContext, outcomes: Array<{ status: string; events: unknown[] }>, json: boolean): number {
  const totals = { messages: outcomes.length, applied: 0, duplicate: 0, unrecognised: 0, unreadable: 0 };
  for (const o of outcomes) totals[o.status as keyof typeof totals]++;
  if (json) printJson(ctx, { messages: outcomes, totals });
  else {
    ctx.out(`${totals.messages} message(s): ${totals.applied} applied, ${totals.duplicate} read before, ${totals.unrecognised} not recognised, ${totals.unreadable} unreadable.`);
  }
  return totals.unrecognised + totals.unreadable > 0 ? EXIT.rejected : EXIT.ok;
}
