import { addConfirmedReader, removeReader } from "../subscribers/manage.js";
import { requestConfirmation } from "../subscribers/confirm.js";
import { readFileSync } from "node:fs";
import { PapermailError } from "../errors.js";
import { checkAddress } from "../model/address.js";
import { readAddressList } from "../subscribers/import.js";
import type { ReaderChoices } from "../model/choices.js";
import { setChoices, findSubscriberByEmail, listSubscribers, type SubscriberStatus } from "../store/subscribers.js";
import { EXIT, printJson, type CommandContext } from "./context.js";
import { csvField } from "../util/csv.js";

export const EXPORT_COLUMNS = "email,status,created_at,confirmed_at,unsubscribed_at,suppressed_reason,suppressed_at,cadence,topics,min_upvotes,format,also_trending";

/** A subscriber's choices in one line: "weekly, compact, topics: speech, diffusion, >= 5 upvotes". */
function describeChoices(c: ReaderChoices): string {
  return [c.cadence, c.format, c.topics.length > 0 ? `topics: ${c.topics.join(", ")}` : "every topic", ...(c.minUpvotes > 0 ? [`>= ${c.minUpvotes} upvotes`] : []),
    ...(c.topics.length > 0 ? [c.alsoTrending > 0 ? `also trending: ${c.alsoTrending}` : "no also trending"] : [])].join("; ");
}

export function runSet(ctx: CommandContext, input: string, choices: Partial<ReaderChoices>, json: boolean): number {
  const check = checkAddress(input);
  if (!check.ok) throw new PapermailError("BAD_ADDRESS", `"${input}" ${check.reason}`);
  const sub = findSubscriberByEmail(ctx.db, check.address);
  if (!sub) throw new PapermailError("NOT_FOUND", `${check.address} is not a subscriber (add them with \`papermail subscribers add\`)`);
  if (Object.keys(choices).length === 0) throw new PapermailError("USAGE", "nothing to set: give --cadence, --topics, --min-upvotes, --format or --also-trending");
  setChoices(ctx.db, sub.id, choices);
  const after = findSubscriberByEmail(ctx.db, check.address)!;
  if (json) printJson(ctx, { email: after.email, status: after.status, ...after.choices });
  else ctx.out(`${after.email}: ${describeChoices(after.choices)}`);
  return EXIT.ok;
}

interface AddFlags {
  confirmed: boolean;
  reactivate: boolean;
  choices?: Partial<ReaderChoices>;
}

export async function runAdd(ctx: CommandContext, emails: string[], flags: AddFlags, json: boolean): Promise<number> {
  if (flags.reactivate && !flags.confirmed) throw new PapermailError("USAGE", "--reactivate goes with --confirmed");
  const results: Array<{ email: string; result: string; error?: string; confirmUrl?: string }> = [];
  for (const input of emails) {
    const check = checkAddress(input);
    if (!check.ok) {
      results.push({ email: input, result: "refused", error: `"${input}" ${check.reason}` });
      continue;
    }
    results.push({ email: check.address, ...(await addOne(ctx, check.address, flags)) });
  }
  if (json) printJson(ctx, results);
  else {
    for (const r of results) {
      if (r.error) ctx.err(`${r.result === "refused" ? "refused" : r.result}: ${r.error}`);
      else ctx.out(`${r.result.padEnd(9)} ${r.email}`);
      if (r.confirmUrl) ctx.out(`          confirmation link (outbox): ${r.confirmUrl}`);
    }
  }
  return results.some((r) => r.error) ? EXIT.rejected : EXIT.ok;
}

/**
 * Adds one checked address: as active with --confirmed (the consent table keeps an
 * address on the suppression list there unless --reactivate), else by double opt-in:
 * a confirmation email within the limits, which they must click. A confirmation that
 * the mail server did not take is an error: run the command again to retry.
 */
async function addOne(ctx: CommandContext, email: string, flags: AddFlags): Promise<{ result: string; error?: string; confirmUrl?: string }> {
  const at = ctx.clock.now().toISOString();
  if (flags.confirmed) {
    const r = addConfirmedReader(ctx.db, email, at, { reactivate: flags.reactivate, source: "cli", choices: flags.choices });
    if (r.outcome === "kept") return { result: keptWords(r.subscriber) };
    if (r.outcome === "reactivated") return { result: `reactivated (they were ${r.was}; --reactivate)` };
    return { result: r.outcome };
  }
  const { decision, sending } = requestConfirmation(ctx, { email, source: "cli" }, null, flags.choices);
  // The operator's choices apply to someone already on the list too.
  if (decision.status === "active" && flags.choices && Object.keys(flags.choices).length > 0) setChoices(ctx.db, decision.subscriberId!, flags.choices);
  if (decision.refused) return { result: keptWords(findSubscriberByEmail(ctx.db, email)!) };
  if (decision.status === "active") return { result: "exists" };
  const sent = await sending;
  if (sent.status === "failed") return { result: "pending", error: `${email}: the confirmation email was not sent (${sent.error}); run the command again to retry` };
  const state = decision.status === "pending" ? "pending" : `${decision.status}, asked to confirm`;
  if (sent.status === "sent") return { result: `${state} (confirmation sent)`, confirmUrl: sent.confirmUrl };
  if (sent.status === "recently sent") return { result: `${state} (no confirmation: one was sent recently; at most one a day and three in 30 days)` };
  return { result: `${state} (${sent.status})` };
}

/** Why an address stays where it is, in the operator's words. */
function keptWords(sub: { status: string; suppressedBy: string | null; email: string }): string {
  if (sub.suppressedBy === "operator") return `kept ${sub.status} (you put it on the suppression list: 'papermail suppressions remove ${sub.email}' first)`;
  if (sub.status === "complained") return "kept complained (they reported the digest as spam; --reactivate only if they asked you to come back)";
  return `kept ${sub.status} (on the suppression list; --reactivate if they asked you to come back)`;
}

export function runRemove(ctx: CommandContext, input: string, forget: boolean): number {
  const check = checkAddress(input);
  if (!check.ok) throw new PapermailError("BAD_ADDRESS", `"${input}" ${check.reason}`);
  const sub = findSubscriberByEmail(ctx.db, check.address);
  if (!sub) throw new PapermailError("NOT_FOUND", `${check.address} is not a subscriber`);
  const done = removeReader(ctx.db, sub, forget, ctx.clock.now().toISOString());
  if (done === "kept") ctx.out(`${check.address} stays ${sub.status}: that is stronger than an unsubscribe (nothing is sent to it)`);
  else ctx.out(done === "already unsubscribed" ? `${check.address} was already unsubscribed` : `${done} ${check.address}`);
  return EXIT.ok;
}

export async function runImport(ctx: CommandContext, file: string, flags: AddFlags, json: boolean): Promise<number> {
  if (flags.reactivate && !flags.confirmed) throw new PapermailError("USAGE", "--reactivate goes with --confirmed");
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new PapermailError("NOT_FOUND", `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const { addresses, choices, problems } = readAddressList(text);
  const counts = { added: 0, activated: 0, reactivated: 0, kept: 0, exists: 0, failed: 0 };
  if (flags.confirmed) {
    // One transaction: thousands of addresses land at once, or none on a crash.
    ctx.db.transaction(() => {
      const at = ctx.clock.now().toISOString();
      for (const a of addresses) {
        // The choice columns of an export come back with the addresses.
        counts[addConfirmedReader(ctx.db, a, at, { reactivate: flags.reactivate, source: "import", choices: choices.get(a) }).outcome]++;
      }
    }).immediate();
  } else {
    for (const a of addresses) {
      const r = await addOne(ctx, a, { ...flags, choices: choices.get(a) });
      if (r.error) ctx.err(r.error);
      counts[r.error ? "failed" : r.result === "exists" ? "exists" : r.result.startsWith("kept") ? "kept" : "added"]++;
    }
  }
  const name = file === "-" ? "stdin" : file;
  if (json) printJson(ctx, { ...counts, refused: problems.length, problems });
  else {
    for (const p of problems) ctx.err(`${name}:${p.line}: "${p.value}" ${p.reason}`);
    const reactivated = counts.reactivated > 0 ? `, ${counts.reactivated} reactivated although they had unsubscribed, bounced or complained (--reactivate)` : "";
    const kept = counts.kept > 0 ? `, ${counts.kept} kept unsubscribed, bounced or complained (on the suppression list; --reactivate if they asked to come back)` : "";
    const failed = counts.failed > 0 ? `, ${counts.failed} whose confirmation could not be sent` : "";
    ctx.out(`${counts.added} added, ${counts.activated} activated${reactivated}${kept}, ${counts.exists} already there${failed}, ${problems.length} refused.`);
  }
  return problems.length > 0 || counts.failed > 0 ? EXIT.rejected : EXIT.ok;
}

/** `subscribers list`: one line (or JSON object) per subscriber, oldest first. */
export function runList(ctx: CommandContext, status: SubscriberStatus | undefined, json: boolean): number {
  const rows = listSubscribers(ctx.db, status);
  if (json) printJson(ctx, rows);
  else if (rows.length === 0) ctx.out("No subscribers yet: add some with `papermail subscribers add EMAIL`.");
  else for (const s of rows) ctx.out(`${s.status.padEnd(13)} ${s.email.padEnd(32)} ${describeChoices(s.choices)}`);
  return EXIT.ok;
}

/** `subscribers export`: CSV that `subscribers import` reads back. */
export function runExport(ctx: CommandContext, status: SubscriberStatus | undefined): number {
  ctx.out(EXPORT_COLUMNS);
  for (const s of listSubscribers(ctx.db, status)) {
    const c = s.choices;
    ctx.out(
      [s.email, s.status, s.createdAt, s.confirmedAt ?? "", s.unsubscribedAt ?? "", s.suppressedReason ?? "", s.suppressedAt ?? "", c.cadence, c.topics.join(", "), String(c.minUpvotes), c.format, String(c.alsoTrending)]
        .map(csvField)
        .join(","),
    );
  }
  return EXIT.ok;
}
