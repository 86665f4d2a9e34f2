import { sendTestCopy as mailTestCopy } from "../deliver/test-copy.js";
import { mailRefusal } from "../store/consent.js";
import { watchInstallation } from "../alarms/watch.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { PapermailError } from "../errors.js";
import { publishDigests } from "../digest/publish.js";
import { editionSettings, previewEdition, type Edition } from "../digest/editions.js";
import type { Format } from "../model/choices.js";
import { renderDigestMessage } from "../render/digest-message.js";
import { digestSubject } from "../render/digest-view.js";
import { fillRecipient } from "../render/recipient-marks.js";
import { checkAddress } from "../model/address.js";
import { countDeliveries } from "../store/deliveries.js";
import { unfinishedDigestIds } from "../store/digests.js";
import { countReaders } from "../store/digest-groups.js";
import { createProgress } from "../util/progress.js";
import { shortDay } from "../util/time.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

export interface SendDigestFlags {
  edition?: Edition;
  /** How --preview and --to render it. */
  format?: Format;
  dryRun: boolean;
  preview?: string;
  to?: string;
  maxPapers?: number;
  retryUnknown: boolean;
  json: boolean;
  /** Stops claiming new recipients (Ctrl-C); messages in flight finish. */
  signal?: AbortSignal;
}

/** `papermail send-digest`: finish interrupted digests, then publish and send the next one. */
export async function runSendDigest(ctx: CommandContext, flags: SendDigestFlags): Promise<number> {
  if (flags.dryRun) return dryRun(ctx, flags);
  if (flags.preview !== undefined) return preview(ctx, flags.preview, flags);
  if (flags.to !== undefined) return sendTestCopy(ctx, flags.to, flags);

  const result = await publishDigests(ctx, {
    edition: flags.edition,
    maxPapers: flags.maxPapers,
    retryUnknown: flags.retryUnknown,
    signal: flags.signal,
    onDigest: (digestId, total) => {
      const progress = createProgress({ total, enabled: !flags.json && total >= 50, unit: "items" });
      return (done, all) => {
        progress.update(done, `recipients of digest #${digestId}`);
        if (done >= all) progress.finish();
      };
    },
  });
  if (flags.json) printJson(ctx, result);
  else {
    if (result.recovered > 0) ctx.out(`${result.recovered} message(s) were interrupted by a crash and are now 'unknown': they are not re-sent (see --retry-unknown).`);
    if (result.requeued > 0) ctx.out(`${result.requeued} 'unknown' message(s) put back in the queue.`);
    if (result.digests.length === 0 && !result.heldBack) ctx.out(result.nothingNew ? `No new digest: ${result.nothingNew}.` : nothingNew(flags.edition, "publish"));
    for (const d of result.digests) {
      ctx.out(
        `${d.edition === "weekly" ? "Weekly digest" : "Digest"} #${d.digestId} "${d.subject}": ${d.papers} papers, ${d.recipients} recipients: ${d.sent} sent, ${d.failed} failed, ` +
          `${d.unknown} unknown, ${d.skipped} skipped${d.complete ? "" : `, ${d.queued + d.sending} not finished`}. Mail went to ${d.mail}.`,
      );
      for (const r of d.senderRefusals) {
        ctx.err(`Refused by ${r.domain}: ${r.count} of ${r.attempted} message(s)${r.statusCode ? ` (${r.statusCode})` : ""}, our side's doing, not the readers': "${r.reply}"`);
      }
      if (d.stopped && d.stopReason === "sender") {
        ctx.err(
          `Paused: ${d.stopped}. The server objects to our sender or our message, not to the readers: mend the sender's setup ` +
            "(its SPF, DKIM and DMARC records, the relay's rules for PAPERMAIL_FROM and PAPERMAIL_BOUNCE_ADDRESS, the sending IP's reputation), then run send-digest again. " +
            "Nobody was marked bounced; readers refused for it are queued again.",
        );
      } else if (d.stopped) ctx.err(`Paused: ${d.stopped}. ${d.stopReason === "config" ? "Fix the setting, then run" : "Run"} send-digest again to resume; nobody was marked failed for it.`);
    }
    for (const w of result.waiting) {
      if (w.queued > 0) ctx.out(`Digest #${w.digestId}: ${w.queued} recipient(s) wait for a retry; the next is due ${w.nextAttemptAt} (the scheduler retries then, or run send-digest again).`);
    }
    if (result.heldBack) ctx.out(`No new digest: ${result.heldBack}.`);
    if (flags.signal?.aborted) ctx.err("Interrupted: messages in flight were recorded; the rest stay queued for the next run.");
  }
  await watchInstallation(ctx, ctx.err);
  if (result.digests.some((d) => d.stopReason === "config" || d.stopReason === "sender")) return EXIT.usage;
  return flags.signal?.aborted || result.digests.some((d) => d.failed + d.unknown > 0 || d.stopped) ? EXIT.rejected : EXIT.ok;
}

/** What a run says when an edition has nothing new. */
function nothingNew(edition: Edition = "daily", verb: string, why?: string): string {
  if (edition === "weekly") return `No daily digest since the last weekly one: nothing to ${verb}.`;
  return why ? `Nothing to ${verb}: ${why}.` : `No new papers since the last digest: nothing to ${verb}.`;
}

/** What the next edition would hold, changing nothing. */
function nextEdition(ctx: CommandContext, flags: SendDigestFlags) {
  const edition = flags.edition ?? "daily";
  const settings = editionSettings(ctx.config);
  return previewEdition(ctx.db, { edition, ...settings, maxPapers: flags.maxPapers ?? settings.maxPapers, at: ctx.clock.now().toISOString() });
}

function dryRun(ctx: CommandContext, flags: SendDigestFlags): number {
  const edition = flags.edition ?? "daily";
  const next = nextEdition(ctx, flags);
  const { papers, plan } = next;
  const recipients = countReaders(ctx.db, edition);
  const unfinished = unfinishedDigestIds(ctx.db).map((id) => ({ digestId: id, waiting: countDeliveries(ctx.db, id).queued }));
  if (flags.json) {
    printJson(ctx, {
      edition,
      unfinished,
      days: next.days,
      papers: papers.map((p) => ({ slug: p.slug, title: p.title, upvotes: p.upvotes, upvotesKnown: p.upvotesAt !== null, listDay: p.listDay })),
      passedOver: plan?.passedOver.length ?? 0,
      forTopicsOnly: plan?.overflow.length ?? 0,
      expiring: plan?.expiring ?? 0,
      nothingNew: plan?.nothing ?? null,
      recipients,
    });
    return EXIT.ok;
  }
  for (const u of unfinished) ctx.out(`Would first finish digest #${u.digestId}: ${u.waiting} recipient(s) waiting.`);
  if (papers.length === 0) ctx.out(nothingNew(edition, "publish", plan?.nothing));
  else {
    ctx.out(
      `Would publish the ${edition} edition "${digestSubject(papers.map((p) => p.title), next.days, edition)}" to ${recipients} active ${edition} reader(s), ` +
        "each getting the papers that match their choices:",
    );
    papers.forEach((p, i) => ctx.out(`${String(i + 1).padStart(4)}. ▲ ${p.upvotesAt === null ? "?" : p.upvotes}  ${p.title}  (listed ${shortDay(p.listDay)})`));
  }
  if (plan && plan.overflow.length > 0) {
    ctx.out(`${plan.overflow.length} more paper(s) of these days would go only to readers whose topics match them, best first, up to ${flags.maxPapers ?? ctx.config.maxPapers} each.`);
  }
  if (plan && (plan.passedOver.length > 0 || plan.expiring > 0)) {
    ctx.out(`Would pass over ${plan.passedOver.length} paper(s) of these days and let ${plan.expiring} older waiting paper(s) expire: no later digest sends them.`);
  }
  ctx.out("(dry run: nothing was changed)");
  return EXIT.ok;
}

/** The next edition's message (every paper, in the format asked for) without freezing it; the reason when there is none. */
async function renderNext(ctx: CommandContext, flags: SendDigestFlags) {
  const { papers, days, plan } = nextEdition(ctx, flags);
  if (papers.length === 0) return { why: plan?.nothing };
  const edition = flags.edition ?? "daily";
  return { rendered: await renderDigestMessage(ctx.config, { edition, papers, days, createdAt: ctx.clock.now().toISOString() }, undefined, flags.format) };
}

async function preview(ctx: CommandContext, file: string, flags: SendDigestFlags): Promise<number> {
  const { rendered, why } = await renderNext(ctx, flags);
  if (!rendered) {
    ctx.out(nothingNew(flags.edition, "preview", why));
    return EXIT.ok;
  }
  const filled = fillRecipient(rendered, { recipient: "you@example.org", unsubscribeUrl: `${ctx.config.publicUrl}/unsubscribe/PREVIEW`, preferencesUrl: `${ctx.config.publicUrl}/preferences/PREVIEW` });
  const textFile = file.replace(/(\.html?)?$/i, ".txt");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, filled.html);
  writeFileSync(textFile, filled.text);
  if (flags.json) printJson(ctx, { subject: rendered.subject, html: file, text: textFile, htmlBytes: Buffer.byteLength(rendered.html) });
  else ctx.out(`Wrote ${displayPath(file)} (${(Buffer.byteLength(rendered.html) / 1024).toFixed(1)} KB) and ${displayPath(textFile)}: "${rendered.subject}". Nothing was published.`);
  return EXIT.ok;
}

async function sendTestCopy(ctx: CommandContext, to: string, flags: SendDigestFlags): Promise<number> {
  const check = checkAddress(to);
  if (!check.ok) throw new PapermailError("BAD_ADDRESS", `--to "${to}" ${check.reason}`);
  const refusal = mailRefusal(ctx.db, check.address);
  if (refusal) throw new PapermailError("BAD_ADDRESS", `--to: ${refusal}`);
  const { rendered, why } = await renderNext(ctx, flags);
  if (!rendered) {
    ctx.out(nothingNew(flags.edition, "send", why));
    return EXIT.ok;
  }
  const { outcome, mail } = await mailTestCopy(ctx.config, rendered, check.address, ctx.clock.now());
  const ok = outcome.status === "sent";
  if (flags.json) printJson(ctx, { to: check.address, subject: rendered.subject, mail, ...outcome });
  else if (ok) ctx.out(`Sent a test copy of "${rendered.subject}" to ${check.address} via ${mail}. Nothing was published.`);
  else ctx.err(`The test copy to ${check.address} was not sent (${outcome.status}): ${outcome.error}`);
  return ok ? EXIT.ok : EXIT.rejected;
}
