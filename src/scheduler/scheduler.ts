import { watchInstallation } from "../alarms/watch.js";
import { schedule, type ScheduledTask } from "node-cron";
import { SAMPLES_DIR } from "../config/load.js";
import { describeError } from "../errors.js";
import type { CommandContext } from "../context.js";
import { publishDigests, type PublishResult } from "../digest/publish.js";
import { ingestAll } from "../ingest/ingest-all.js";
import { fetchBounces } from "../bounces/imap.js";
import { fetchDays } from "../fetch/fetch-days.js";
import { compactLedger } from "../store/compaction.js";
import { pruneConfirmationSends } from "../store/consent.js";
import { activeDigestIds } from "../store/digests.js";
import { quotaResumesAt } from "../store/send-quota.js";
import { listDumpFiles } from "../ingest/list-files.js";
import { readSetting, writeSetting } from "../store/settings.js";
import { previousSlot } from "./slots.js";

export type JobName = "ingest" | "digest" | "weekly" | "retry" | "bounces" | "compact" | "fetch";

/**
 * Which queue a job waits in: one job of a lane at a time, lanes side by side. The
 * publishing jobs share one (ingest before digest, daily before weekly); jobs that
 * wait on outside servers each have their own.
 */
type Lane = "publish" | "fetch" | "bounces";
const LANES: Record<JobName, Lane> = { ingest: "publish", digest: "publish", weekly: "publish", retry: "publish", compact: "publish", fetch: "fetch", bounces: "bounces" };

/** When the scheduler compacts the ledger: once a day, at a quiet hour. */
const COMPACT_CRON = "30 3 * * *";

export interface Scheduler {
  /** Runs a job now, after any job in progress in its lane: jobs of a lane never overlap. */
  run(job: JobName): Promise<void>;
  /** What a cron tick of a job does: the daily digest runs once per slot, before a weekly one due the same minute. */
  tick(job: JobName): Promise<void>;
  /** Publishes once if a digest slot passed while the service was down (not once per missed slot). */
  catchUp(): Promise<void>;
  /** Starts the cron schedules. */
  start(): void;
  /** Stops the schedules, asks a running send to pause safely, and waits for the job in progress. */
  stop(): Promise<void>;
}

/**
 * node-cron calls the same functions as the CLI commands: ingest the dump folder,
 * publish a digest. One queue runs one job at a time; a manual `send-digest` in
 * another process is safe because the database arbitrates.
 */
export function createScheduler(ctx: CommandContext, log: (line: string) => void): Scheduler {
  const { config, clock, db } = ctx;
  const abort = new AbortController();
  // Jobs that wait on someone else's server run in lanes of their own: a fetch held by
  // a slow API, or a bounce mailbox that hangs, never holds up ingest, digests or retries.
  const lanes = new Map<Lane, Promise<void>>();
  const pending = new Set<JobName>();
  const tasks: ScheduledTask[] = [];

  async function runNow(job: JobName): Promise<void> {
    const started = clock.now();
    try {
      if (job === "ingest") {
        const { files, problems } = listDumpFiles([config.dumpsDir]);
        for (const p of problems) log(`ingest: skipped ${p.path}: ${p.reason}`);
        const { totals } = await ingestAll(ctx, files, { demoDir: config.demo ? SAMPLES_DIR : undefined });
        log(`ingest: ${files.length} file(s), ${totals.ingested} ingested, ${totals.unchanged} unchanged, ${totals.rejected} rejected, ${totals.new} new papers`);
      } else if (job === "digest") {
        writeSetting(db, "last_digest_run", started.toISOString());
        report("digest", await publishDigests(ctx, { retryUnknown: false, signal: abort.signal }));
      } else if (job === "weekly") {
        writeSetting(db, "last_weekly_run", started.toISOString());
        report("weekly", await publishDigests(ctx, { edition: "weekly", retryUnknown: false, signal: abort.signal }));
      } else if (job === "bounces") {
        const { outcomes, stopped } = await fetchBounces(ctx);
        if (stopped) log(`bounces: ${stopped}`);
        const counts = { applied: 0, unverified: 0, "not-a-bounce": 0, duplicate: 0, unrecognised: 0 };
        for (const o of outcomes) counts[o.status]++;
        for (const o of outcomes.filter((x) => x.status === "unrecognised")) log(`bounces: not recognised, left in the mailbox: ${o.origin}: ${o.reason}`);
        for (const o of outcomes.filter((x) => x.status === "unverified")) {
          log(`bounces: unverified, nobody changed: ${o.origin}: ${o.entries.map((e) => `${e.kind} (${e.reason}) for ${e.recipient ?? "?"}`).join(", ")}`);
        }
        for (const e of outcomes.flatMap((o) => o.entries)) {
          if (e.effect === "bounced" || e.effect === "complained") log(`bounces: ${e.subscriber} is now ${e.effect} (${e.reason}${e.statusCode ? ` ${e.statusCode}` : ""}, proof: ${e.proof})`);
          if (e.effect === "sender-counted") log(`bounces: ${e.subscriber?.split("@")[1]} refused our mail (${e.reason}${e.statusCode ? ` ${e.statusCode}` : ""}): ${e.detail}`);
        }
        log(
          `bounces: ${outcomes.length} message(s), ${counts.applied} applied, ${counts.unverified} unverified, ${counts["not-a-bounce"]} not a bounce, ` +
            `${counts.duplicate} read before, ${counts.unrecognised} not recognised`,
        );
      } else if (job === "fetch") {
        for (const r of await fetchDays(ctx, { days: 1, signal: abort.signal })) {
          log(r.error ? `fetch: ${r.date} failed: ${r.error}` : `fetch: ${r.date}: ${r.entries} entries, ${r.new} new and ${r.updated} updated papers`);
        }
      } else if (job === "compact") {
        const before = new Date(clock.now().getTime() - config.ledgerDays * 86400_000).toISOString();
        const r = await compactLedger(db, before, clock.now().toISOString());
        // Confirmation records older than the longest limit count for nothing any more.
        pruneConfirmationSends(db, clock.now());
        if (r.digests > 0) log(`compact: ${r.digests} digest(s) finished before ${before}: ${r.rows} ledger rows compacted into counts`);
      } else if (activeDigestIds(db, clock.now().toISOString()).length > 0 && !quotaUsedUp()) {
        // A retry came due, or a paused digest can go on.
        // Retries come due between digests: finish what waits, publish nothing new.
        report("retry", await publishDigests(ctx, { retryUnknown: false, freeze: false, signal: abort.signal }));
      }
    } catch (err) {
      log(`${job}: failed: ${describeError(err)}`);
    }
    // After every job: has the input dried up or shrunk, do sends fail? (Raised, cleared and mailed there.)
    try {
      await watchInstallation(ctx, log);
    } catch (err) {
      log(`alerts: ${describeError(err)}`);
    }
  }

  /** True while the daily quota allows nothing: a paused digest resumes once it does. */
  function quotaUsedUp(): boolean {
    return config.smtpDailyLimit !== undefined && quotaResumesAt(db, config.smtpDailyLimit, clock.now().getTime()) !== undefined;
  }

  function report(job: JobName, result: PublishResult): void {
    if (result.digests.length === 0 && job !== "retry") {
      log(`${job}: nothing published: ${result.heldBack ?? result.nothingNew ?? "no new papers"}`);
    }
    for (const d of result.digests) {
      log(
        `${job}: ${d.edition === "weekly" ? "weekly " : ""}digest #${d.digestId}: ${d.papers} papers, ${d.recipients} recipients, ${d.sent} sent, ${d.failed} failed, ${d.unknown} unknown, ${d.skipped} skipped` +
          (d.stopped ? ` (paused: ${d.stopped})` : d.complete ? "" : ` (${d.queued} waiting, next try ${d.nextAttemptAt})`),
      );
      for (const r of d.senderRefusals) log(`${job}: ${r.domain} refused our mail ${r.count} time(s) of ${r.attempted}${r.statusCode ? ` (${r.statusCode})` : ""}: ${r.reply}`);
    }
  }

  /** True when the latest slot of `cron` has not run yet (by the time `setting` records). */
  function slotUnrun(cron: string, setting: string, now: Date): boolean {
    const slot = previousSlot(cron, config.timeZone, now);
    const last = readSetting(db, setting);
    return slot !== undefined && (last === undefined || last < slot.toISOString());
  }

  function tick(job: JobName): Promise<void> {
    const now = clock.now();
    if (job === "digest" && !slotUnrun(config.digestCron, "last_digest_run", now)) return lanes.get(LANES.digest) ?? Promise.resolve();
    if (job === "weekly") {
      // The weekly edition gathers the daily digests: a daily slot of this same minute goes first.
      const daily = previousSlot(config.digestCron, config.timeZone, now);
      if (daily && now.getTime() - daily.getTime() < 60_000 && slotUnrun(config.digestCron, "last_digest_run", now)) void run("digest");
    }
    return run(job);
  }

  function run(job: JobName): Promise<void> {
    const lane = LANES[job];
    const chain = lanes.get(lane) ?? Promise.resolve();
    // A trigger while the same job already waits adds nothing: two overlapping triggers run once.
    if (pending.has(job)) return chain;
    pending.add(job);
    const next = chain.then(() => {
      pending.delete(job);
      return abort.signal.aborted ? undefined : runNow(job);
    });
    lanes.set(lane, next);
    return next;
  }

  return {
    run,
    tick,
    async catchUp() {
      const now = clock.now();
      const firstStart = readSetting(db, "scheduler_started_at");
      if (!firstStart) writeSetting(db, "scheduler_started_at", now.toISOString());
      // The daily edition first: a weekly one gathers the daily digests.
      for (const [job, cron, setting] of [["digest", config.digestCron, "last_digest_run"], ["weekly", config.weeklyCron, "last_weekly_run"]] as const) {
        const lastRun = readSetting(db, setting) ?? firstStart;
        const slot = previousSlot(cron, config.timeZone, now);
        if (lastRun && slot && slot.toISOString() > lastRun) {
          log(`${job}: the slot of ${slot.toISOString()} was missed while papermail was down; publishing now`);
          await run(job);
        }
      }
    },
    start() {
      // node-cron's own warnings ("missed execution") go to our log, without its colour codes.
      const logger = {
        info: () => undefined,
        debug: () => undefined,
        warn: (message: string) => log(`scheduler: ${message}`),
        error: (message: string | Error) => log(`scheduler: ${describeError(message)}`),
      };
      const options = { timezone: config.timeZone, noOverlap: true, logger };
      tasks.push(schedule(config.ingestCron, () => run("ingest"), { ...options, name: "ingest" }));
      tasks.push(schedule(config.digestCron, () => tick("digest"), { ...options, name: "digest" }));
      tasks.push(schedule(config.weeklyCron, () => tick("weekly"), { ...options, name: "weekly" }));
      // Retries and paused digests are looked at every minute; the query is one index probe.
      tasks.push(schedule("* * * * *", () => run("retry"), { ...options, name: "retry" }));
      tasks.push(schedule(COMPACT_CRON, () => run("compact"), { ...options, name: "compact" }));
      if (config.bounceMailbox) tasks.push(schedule(config.bounceCron, () => run("bounces"), { ...options, name: "bounces" }));
      if (config.fetchCron) tasks.push(schedule(config.fetchCron, () => run("fetch"), { ...options, name: "fetch" }));
    },
    async stop() {
      for (const t of tasks.splice(0)) await t.destroy();
      abort.abort();
      await Promise.all(lanes.values());
    },
  };
}
