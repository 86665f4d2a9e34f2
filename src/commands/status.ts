import { findProblems } from "../alarms/drift.js";
import { describeSmtpServer } from "../deliver/transport/smtp-mailer.js";
import { countDumps } from "../store/dumps.js";
import { countDemoPapers, countPapers } from "../store/papers.js";
import { countSubscribers } from "../store/subscribers.js";
import { countDeliveries, sentSince } from "../store/deliveries.js";
import { latestDigest, waitingDigests } from "../store/digests.js";
import { countReaders } from "../store/digest-groups.js";
import { editionSettings, previewEdition } from "../digest/editions.js";
import { countRetired } from "../store/list-days.js";
import { dayRange, shortDay } from "../util/time.js";
import { countBounceEvents, countBounceMessages, listUnverifiedReports, senderRefusalsByDomain } from "../store/bounces.js";
import { quotaResumesAt, sentInLastDay } from "../store/send-quota.js";
import { nextRuns } from "../scheduler/slots.js";
import { relayReports } from "../store/relays.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail status`: what is stored, what waits, what was sent last and what runs next. */
export function runStatus(ctx: CommandContext, flags: { json: boolean }): number {
  const papers = countPapers(ctx.db);
  const dumps = countDumps(ctx.db);
  const subscribers = countSubscribers(ctx.db);
  const readers = { daily: countReaders(ctx.db, "daily"), weekly: countReaders(ctx.db, "weekly") };
  const last = latestDigest(ctx.db) ?? null;
  const schedule = nextRuns(ctx.config, ctx.clock.now());
  const waiting = waitingDigests(ctx.db, ctx.clock.now());
  const next = waiting.map((w) => w.nextAttemptAt).filter((t): t is string => t !== null).sort()[0] ?? null;
  const deliveries = { waiting: waiting.reduce((n, w) => n + w.queued, 0), nextAttemptAt: next, unfinishedDigests: waiting.map((w) => w.digestId) };
  const now = ctx.clock.now();
  const { smtpRate: rate, smtpDailyLimit: daily } = ctx.config;
  // The quota's minutes count sends only when a daily limit is set; otherwise the recent ledger does.
  const sentLastDay = daily !== undefined ? sentInLastDay(ctx.db, now.getTime()) : sentSince(ctx.db, new Date(now.getTime() - 86400_000).toISOString());
  const quotaUntil = daily !== undefined ? (quotaResumesAt(ctx.db, daily, now.getTime()) ?? null) : null;
  const sending = { rate: rate ?? null, dailyLimit: daily ?? null, sentLast24h: sentLastDay, quotaResumesAt: quotaUntil, estimatedDoneAt: estimateDone(deliveries.waiting, rate, daily, sentLastDay, now, quotaUntil) };
  const monthAgo = new Date(now.getTime() - 30 * 86400_000).toISOString();
  const bounces = countBounceEvents(ctx.db, monthAgo);
  const reports = countBounceMessages(ctx.db, monthAgo);
  // Refusals of our side per receiving domain: a sender problem to mend, never the readers'.
  const senderRefusals = senderRefusalsByDomain(ctx.db, new Date(now.getTime() - 7 * 86400_000).toISOString(), 10);
  const unverified = listUnverifiedReports(ctx.db, 5);
  const demo = { mode: ctx.config.demo, waitingDemoPapers: countDemoPapers(ctx.db) };
  // What the next daily digest covers, as send-digest would decide it now.
  const upcoming = previewEdition(ctx.db, { edition: "daily", ...editionSettings(ctx.config), at: now.toISOString() });
  const listDays = {
    newest: upcoming.plan?.newestDay ?? null,
    coveredThrough: upcoming.plan?.coveredThrough ?? null,
    nextDigestCovers: upcoming.days,
    nextDigestPapers: upcoming.papers.length,
    nothingNew: upcoming.plan?.nothing ?? null,
    ...countRetired(ctx.db),
    expiringAtNextDigest: upcoming.plan?.expiring ?? 0,
  };
  const site = {
    publicUrl: ctx.config.publicUrl,
    publicUrlSet: ctx.config.publicUrlSet,
    mail: ctx.config.smtpUrl ? `SMTP ${ctx.config.relays.map((r) => describeSmtpServer(r.url)).join(", then ")}` : `outbox ${displayPath(ctx.config.outboxDir)} (.eml files; no PAPERMAIL_SMTP_URL set)`,
  };
  const status = {
    database: ctx.config.dbPath,
    site,
    demo,
    papers,
    listDays,
    dumps,
    subscribers,
    readers,
    lastDigest: last,
    deliveries,
    sending,
    relays: relayReports(ctx.db, ctx.config.relays, now),
    bouncesLast30Days: bounces,
    bounceReportsLast30Days: reports,
    senderRefusalsLast7Days: senderRefusals,
    latestUnverifiedReports: unverified,
    schedule,
    // Judged now (what the scheduler would raise), whether or not anything has looked yet.
    alerts: findProblems(ctx.db, ctx.config, now),
  };
  if (flags.json) {
    printJson(ctx, status);
    return EXIT.ok;
  }
  ctx.out(`database     ${displayPath(ctx.config.dbPath)}`);
  if (status.alerts.length === 0) ctx.out("alerts       none");
  for (const a of status.alerts) ctx.out(`alert        ${a.kind}: ${a.message}`);
  ctx.out(`public URL   ${site.publicUrl}${site.publicUrlSet ? "" : " (PAPERMAIL_PUBLIC_URL not set" + (ctx.config.demo ? ": fine for a trial)" : ": digests are not published until it is)")}`);
  ctx.out(`mail         ${site.mail}`);
  ctx.out(`papers       ${papers.total} stored, ${papers.unsent} waiting, ${listDays.passedOver} passed over, ${listDays.expired} expired (papers --passed-over)`);
  ctx.out(
    `list days    newest ${listDays.newest ? shortDay(listDays.newest) : "-"}, covered through ${listDays.coveredThrough ? shortDay(listDays.coveredThrough) : "-"}; ` +
      (upcoming.days
        ? `the next digest covers ${dayRange(upcoming.days.from, upcoming.days.through)} with ${upcoming.papers.length} paper(s)${listDays.expiringAtNextDigest ? `, ${listDays.expiringAtNextDigest} older one(s) expire` : ""}`
        : `no digest due: ${listDays.nothingNew}`),
  );
  if (ctx.config.demo) ctx.out("demo         no PAPERMAIL_DUMPS_DIR or PAPERMAIL_SMTP_URL set: showing the bundled samples, mail goes to the outbox");
  else if (demo.waitingDemoPapers > 0) ctx.out(`demo         ${demo.waitingDemoPapers} sample paper(s) from the demo are kept out of digests (ingest a sample file by name to send it)`);
  ctx.out(`dumps        ${dumps.ingested} ingested, ${dumps.rejected} rejected`);
  ctx.out(
    `subscribers  ${subscribers.active} active (${readers.daily} daily, ${readers.weekly} weekly), ${subscribers.pending} pending, ${subscribers.unsubscribed} unsubscribed, ${subscribers.bounced} bounced, ${subscribers.complained} complained`,
  );
  ctx.out(
    last
      ? `last digest  #${last.id}${last.edition === "weekly" ? " (weekly)" : ""} of ${last.createdAt}: ${lastDigestWords(last, countDeliveries(ctx.db, last.id).skipped)}`
      : "last digest  none yet",
  );
  if (deliveries.waiting > 0) ctx.out(`waiting      ${deliveries.waiting} message(s) queued for a retry; the next is due ${deliveries.nextAttemptAt}`);
  const limits = [rate ? `${rate}/s` : "no rate limit", daily ? `${daily} a day` : "no daily limit"].join(", ");
  ctx.out(`sending      ${limits}; ${sentLastDay} sent in the last 24 hours${quotaUntil ? `; daily limit reached until ${quotaUntil}` : ""}`);
  if (ctx.config.relays.length > 1 || status.relays.some((r) => r.rate !== null || r.dailyLimit !== null)) {
    for (const r of status.relays) {
      const limits = [r.rate !== null ? `${r.rate}/s` : "", r.dailyLimit !== null ? `${r.sentLast24h} of ${r.dailyLimit} today` : ""].filter(Boolean).join(", ");
      ctx.out(`relay        ${r.relay}: ${r.state}${r.until ? ` until ${r.until}` : ""}${limits ? `; ${limits}` : ""}${r.lastError ? `; last error ${r.lastErrorAt}: ${r.lastError}` : ""}`);
    }
  }
  if (sending.estimatedDoneAt) ctx.out(`estimate     the waiting messages are done by about ${sending.estimatedDoneAt}`);
  ctx.out(
    `bounces      last 30 days: ${bounces.hard} hard, ${bounces.soft} soft, ${bounces.complaint} complaints, ${bounces.sender} refusals of our side; ` +
      `${reports.unverified} report(s) without proof changed nobody`,
  );
  for (const r of senderRefusals) ctx.out(`refused      ${r.domain}: ${r.count} in 7 days${r.statusCode ? ` (${r.statusCode})` : ""}, last ${r.at}: ${r.detail}`);
  for (const u of unverified) ctx.out(`unverified   ${u.readAt}: ${u.detail}`);
  ctx.out(`next ingest  ${schedule.ingest ?? "-"} (${ctx.config.ingestCron}, ${ctx.config.timeZone})`);
  ctx.out(`next digest  ${schedule.digest ?? "-"} (${ctx.config.digestCron}, ${ctx.config.timeZone})`);
  ctx.out(`next weekly  ${schedule.weekly ?? "-"} (${ctx.config.weeklyCron}, ${ctx.config.timeZone})`);
  return EXIT.ok;
}

/**
 * When the queued messages should be done: at the configured rate and within the
 * daily quota (a day per quota's worth beyond what is left today). Null when no
 * limit says (an unlimited relay takes what it gets in minutes).
 */
/** "30 papers; sent to 1 of 1 reader (2 skipped: ...)": readers skipped by their own choices are not owed a message. */
function lastDigestWords(last: { paperCount: number; sent: number; recipientCount: number; status: string }, skipped: number): string {
  const owed = last.recipientCount - skipped;
  const papers = `${last.paperCount} paper${last.paperCount === 1 ? "" : "s"}`;
  const sent = `sent to ${last.sent} of ${owed} reader${owed === 1 ? "" : "s"}`;
  const skip = skipped > 0 ? ` (${skipped} skipped: nothing new for their choices, or no longer subscribed)` : "";
  return `${papers}; ${sent}${skip}${last.status === "sending" ? " (unfinished)" : ""}`;
}

function estimateDone(queued: number, rate: number | undefined, daily: number | undefined, sentLastDay: number, now: Date, quotaUntil: string | null): string | null {
  if (queued === 0 || (rate === undefined && daily === undefined)) return null;
  let seconds = rate ? queued / rate : 0;
  if (daily !== undefined) {
    const leftToday = Math.max(0, daily - sentLastDay);
    if (queued > leftToday) seconds = Math.max(seconds, Math.ceil((queued - leftToday) / daily) * 86400);
    if (quotaUntil) seconds += Math.max(0, (Date.parse(quotaUntil) - now.getTime()) / 1000);
  }
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

