import { setTimeout as sleep } from "node:timers/promises";
import { verpAddress } from "../bounces/verp.js";
import type { Config } from "../config/load.js";
import { describeError } from "../errors.js";
import { preferencesLink } from "../render/links.js";
import { fromAddress } from "../render/from.js";
import type { MessageTemplate } from "../render/mime.js";
import { GaveUpWaiting, isBusy, retryWhileBusy } from "../store/busy.js";
import type { Db } from "../store/db.js";
import type { BouncePolicy } from "../store/bounces.js";
import { claimDelivery, countDeliveries, nextQueuedAt, nextQueuedGroup, settleDelivery, type ClaimedDelivery, type DeliveryStatus, type QuotaReached, type SendLimits, type Settlement } from "../store/deliveries.js";
import { requeueSenderRefusals } from "../store/delivery-recovery.js";
import { findDigest, finishDigestIfComplete } from "../store/digests.js";
import { checkpointInBackground } from "../store/checkpointer.js";
import { holdSenderLease } from "../store/senders.js";
import type { Clock } from "../util/time.js";
import { digestMessageId, unsubscribeToken } from "../util/tokens.js";
import { DEFAULT_RETRY, newTally, settle, type RetryPolicy, type SenderRefusals, type StopReason } from "./settle.js";
import { journalFolder, openSendJournal } from "../store/send-journal.js";
import { createTemplateCache } from "./template-cache.js";
import type { Mailer, SendOutcome } from "./transport/mailer.js";
import { createThrottle, type ThrottleOptions } from "./transport/throttle.js";

/**
 * The send engine: claims each due ledger row, hands its message to the mailer, and
 * records what settle() makes of the outcome. Rendering is the template cache's,
 * the wire the transports' (deliver/transport/).
 */

export interface DeliverDeps {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  config: Config;
  secret: string;
  /** This process's name in the ledger. */
  owner: string;
}

export interface DeliverOptions {
  /** Messages in flight at once. */
  concurrency: number;
  retry?: RetryPolicy;
  /** The run waits for retries due this soon; later ones are left queued for the next run. */
  waitForRetriesMs?: number;
  throttle?: Partial<ThrottleOptions>;
  /** The relay's rate and daily quota (PAPERMAIL_SMTP_RATE, PAPERMAIL_SMTP_DAILY_LIMIT). */
  limits?: SendLimits;
  /** The envelope sender for bounces (PAPERMAIL_BOUNCE_ADDRESS): VERP per message. */
  bounceAddress?: string;
  /** When SMTP-time 5xx answers make an address bounced. */
  bouncePolicy?: BouncePolicy;
  /** Stop claiming new rows (Ctrl-C, SIGTERM); messages in flight finish and are recorded. */
  signal?: AbortSignal;
  onProgress?: (settled: number, total: number) => void;
}

export type DeliveryReport = {
  digestId: number;
  recipients: number;
  complete: boolean;
  stopped?: string;
  stopReason?: StopReason;
  /** When the earliest row still queued is due (null when none waits). */
  nextAttemptAt: string | null;
  /** When the daily quota lets sending resume, if it stopped the run. */
  quotaUntil?: string;
  /** Refusals of our side (sender, domain authentication, reputation, content) per receiving domain. */
  senderRefusals: SenderRefusals[];
} & Record<DeliveryStatus, number>;

/**
 * Sends a frozen digest to every due ledger row: claim (committed as `sending`),
 * hand to the mailer, record the outcome. Only a server's answer uses up a
 * recipient's retries: an outage, a dropped connection or throttling slows or
 * pauses the run instead. Temporary failures wait in the queue on a schedule of
 * hours; other processes may work on the same digest at the same time.
 */
export async function deliverDigest(deps: DeliverDeps, digestId: number, options: DeliverOptions): Promise<DeliveryReport> {
  const { db, mailer, clock, config, secret, owner } = deps;
  const retry = options.retry ?? DEFAULT_RETRY;
  const waitForRetriesMs = options.waitForRetriesMs ?? 5_000;
  const cache = createTemplateCache(db, config, digestId);
  // The first rendering (and the template's compilation) happens before any claim: a claim takes a send slot.
  const first = nextQueuedGroup(db, digestId);
  if (first !== undefined) await cache.templateFor(first).template;
  const envelopeFrom = fromAddress(config.from);
  const domain = envelopeFrom.split("@")[1] ?? "localhost";
  const digest = findDigest(db, digestId)!;
  const frozenAt = Date.parse(digest.createdAt);
  const total = digest.recipientCount;
  const before = countDeliveries(db, digestId);
  let settled = total - before.queued - before.sending;
  const throttle = createThrottle(options.throttle);
  // Whose data this sender started to write: after a kill, only those rows may have arrived.
  const journal = openSendJournal(journalFolder(config.dbPath), owner);

  const tally = newTally();
  let stopped: { reason: StopReason; message: string } | undefined;
  const halted = () => Boolean(options.signal?.aborted || stopped);
  const stop = (reason: StopReason, message: string) => (stopped ??= { reason, message });
  let quotaUntil: string | undefined;
  const limits = options.limits ?? {};
  const policy = options.bouncePolicy ?? { softLimit: 3, softDays: 15 };

  // Claims of this run not yet settled, and a wake-up for workers waiting on one to settle.
  let holding = 0;
  let wake: (() => void) | undefined;
  let woken: Promise<void> | undefined;
  const letGo = () => {
    holding--;
    wake?.();
    wake = woken = undefined;
  };
  const settledOne = () => (woken ??= new Promise<void>((resolve) => (wake = resolve)));

  async function worker(): Promise<void> {
    let previous: Settlement | undefined;
    const claim = () => claimDelivery(db, digestId, owner, clock.now().toISOString(), previous, limits);
    while (!halted()) {
      let claimed: ClaimedDelivery | QuotaReached | undefined;
      try {
        claimed = claim();
      } catch (err) {
        if (!isBusy(err)) throw err;
        // Another process holds the lock: wait for it without blocking the other connections.
        try {
          claimed = await retryWhileBusy(claim, halted);
        } catch (waitErr) {
          if (waitErr instanceof GaveUpWaiting) break;
          throw waitErr;
        }
      }
      if (previous) letGo();
      previous = undefined;
      if (claimed && !("quotaUntil" in claimed)) holding++;
      if (claimed && "quotaUntil" in claimed) {
        // Messages still out may give their places back (a refusal, a connection that never
        // sent): the run ends at the quota only once none is out.
        if (holding > 0) {
          await settledOne();
          continue;
        }
        // A quota is nobody's fault: everyone stays queued until it allows more.
        quotaUntil = claimed.quotaUntil;
        stop("quota", `the daily limit of ${limits.daily} messages (PAPERMAIL_SMTP_DAILY_LIMIT) is reached; sending resumes at ${claimed.quotaUntil}`);
        return;
      }
      const row = claimed;
      if (!row) {
        const due = nextQueuedAt(db, digestId);
        if (due === undefined) return;
        const wait = (due === "" ? 0 : Date.parse(due)) - clock.now().getTime();
        if (wait > waitForRetriesMs) return;
        await sleep(Math.min(1000, Math.max(10, wait)), undefined, { signal: options.signal }).catch(() => undefined);
        continue;
      }
      if (row.slotMs !== undefined && row.slotMs > Date.now()) await sleep(row.slotMs - Date.now(), undefined, { signal: options.signal }).catch(() => undefined);
      if (throttle.paused()) await throttle.ready(options.signal);
      const token = unsubscribeToken(secret, digestId, row.subscriberId);
      // Counted from here: the rendering's buffer is not reused while this message needs it.
      const entry = cache.templateFor(row.groupNo);
      entry.inFlight++;
      let outcome: SendOutcome;
      let sentAt = 0;
      try {
        let template: MessageTemplate;
        try {
          template = await entry.template;
        } catch (err) {
          // A rendering that fails (a broken template) sends nothing: the reader goes back to the queue.
          previous = { subscriberId: row.subscriberId, status: "queued", refund: true, error: describeError(err) };
          stop("config", describeError(err));
          continue;
        }
        const raw = template.personalise({
          to: row.email,
          messageId: `${digestMessageId(secret, digestId, row.subscriberId)}@${domain}`,
          unsubscribeUrl: `${config.publicUrl}/unsubscribe/${token}`,
          preferencesUrl: preferencesLink(config, secret, row.subscriberId),
        });
        const from = options.bounceAddress ? verpAddress(secret, options.bounceAddress, digestId, row.subscriberId) : envelopeFrom;
        sentAt = Date.now();
        outcome = await mailer.send({
          from,
          to: row.email,
          raw,
          name: `${String(row.subscriberId).padStart(7, "0")}-${row.email.replace(/[^A-Za-z0-9@._+-]/g, "_")}`,
          // The template writes CRLF only and quoted-printable never starts a line with a dot.
          smtpReady: true,
          onData: () => journal.started(digestId, row.subscriberId),
        });
      } finally {
        cache.release(entry);
      }
      // The pacing is told first: whether it gives up on a throttled server decides the stop.
      const throttleGaveUp = outcome.status === "retry" && outcome.cause === "throttled" ? !throttle.throttled(sentAt) : undefined;
      if (outcome.status === "sent") throttle.succeeded();
      if (outcome.status === "retry" && outcome.cause === "quota") quotaUntil = outcome.until;
      const result = settle(tally, { digestId, row, outcome, at: clock.now(), frozenAt, retry, policy, relay: mailer.description, throttleGaveUp });
      if (result.stop) stop(result.stop.reason, result.stop.message);
      previous = result.settlement;
      if (previous.status !== "queued") options.onProgress?.(++settled, total);
    }
    // The outcome of a message that went out is recorded whatever happens: it waits out a busy database.
    if (previous) {
      const last = previous;
      await retryWhileBusy(() => settleDelivery(db, { digestId, subscriberId: last.subscriberId, owner }, last, clock.now().toISOString(), limits.daily !== undefined));
      letGo();
    }
  }

  const releaseLease = holdSenderLease(db, owner, digestId, () => clock.now());
  const stopCheckpoints = checkpointInBackground(db);
  let workersDone = false;
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));
    workersDone = true;
  } finally {
    journal.close(workersDone);
    releaseLease();
    await stopCheckpoints();
  }
  // A pause for refusals of our side puts the readers they refused back in the queue:
  // once the sender's setup is mended, they get this digest like everyone else.
  if (stopped?.reason === "sender") await retryWhileBusy(() => requeueSenderRefusals(db, digestId, clock.now().toISOString()));
  const complete = await retryWhileBusy(() => finishDigestIfComplete(db, digestId, clock.now().toISOString()));
  const counts = countDeliveries(db, digestId);
  const next = counts.queued > 0 ? (nextQueuedAt(db, digestId) ?? null) : null;
  return {
    digestId,
    recipients: total,
    complete,
    stopped: stopped?.message,
    stopReason: stopped?.reason,
    quotaUntil,
    nextAttemptAt: next === "" ? clock.now().toISOString() : next,
    senderRefusals: [...tally.domains.values()].filter((d) => d.count > 0).sort((a, b) => b.count - a.count),
    ...counts,
  };
}
