import { countDumps } from "../store/dumps.js";
import { countPapers } from "../store/papers.js";
import { countSubscribers } from "../store/subscribers.js";
import { latestDigest } from "../store/digests.js";
import { waitingDigests } from "../digest/publish.js";
import { nextRuns } from "../scheduler/slots.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail status`: what is stored, what waits, what was sent last and what runs next. */
export function runStatus(ctx: CommandContext, flags: { json: boolean }): number {
  const papers = countPapers(ctx.db);
  const dumps = countDumps(ctx.db);
  const subscribers = countSubscribers(ctx.db);
  const last = latestDigest(ctx.db) ?? null;
  const schedule = nextRuns(ctx.config, ctx.clock.now());
  const waiting = waitingDigests(ctx);
  const next = waiting.map((w) => w.nextAttemptAt).filter((t): t is string => t !== null).sort()[0] ?? null;
  const deliveries = { waiting: waiting.reduce((n, w) => n + w.queued, 0), nextAttemptAt: next, unfinishedDigests: waiting.map((w) => w.digestId) };
  const status = { database: ctx.config.dbPath, papers, dumps, subscribers, lastDigest: last, deliveries, schedule };
  if (flags.json) {
    printJson(ctx, status);
    return EXIT.ok;
  }
  ctx.out(`database     ${displayPath(ctx.config.dbPath)}`);
  ctx.out(`papers       ${papers.total} stored, ${papers.unsent} not yet sent`);
  ctx.out(`dumps        ${dumps.ingested} ingested, ${dumps.rejected} rejected`);
  ctx.out(`subscribers  ${subscribers.active} active, ${subscribers.pending} pending, ${subscribers.unsubscribed} unsubscribed`);
  ctx.out(
    last
      ? `last digest  #${last.id} of ${last.createdAt}: ${last.paperCount} papers, ${last.sent}/${last.recipientCount} sent${last.status === "sending" ? " (unfinished)" : ""}`
      : "last digest  none yet",
  );
  if (deliveries.waiting > 0) ctx.out(`waiting      ${deliveries.waiting} message(s) queued for a retry; the next is due ${deliveries.nextAttemptAt}`);
  ctx.out(`next ingest  ${schedule.ingest ?? "-"} (${ctx.config.ingestCron}, ${ctx.config.timeZone})`);
  ctx.out(`next digest  ${schedule.digest ?? "-"} (${ctx.config.digestCron}, ${ctx.config.timeZone})`);
  return EXIT.ok;
}
