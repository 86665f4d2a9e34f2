import type { StoredPaper } from "../store/papers.js";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config.js";
import { describeError, PapermailError } from "../errors.js";
import { digestSubject, renderDigest } from "../render/email.js";
import { digestLinks, listId, paperPageUrl, preferencesLink } from "../render/links.js";
import { fromAddress } from "../render/from.js";
import { buildMessageTemplate, type MessageTemplate } from "../render/mime.js";
import { GaveUpWaiting, isBusy, retryWhileBusy } from "../store/busy.js";
import type { Db } from "../store/db.js";
import { verpAddress } from "../bounces/verp.js";
import type { BouncePolicy } from "../store/bounces.js";
import {
  claimDelivery,
  countDeliveries,
  nextQueuedAt,
  nextQueuedGroup,
  requeueSenderRefusals,
  settleDelivery,
  type ClaimedDelivery,
  type DeliveryStatus,
  type QuotaReached,
  type SendLimits,
  type Settlement,
} from "../store/deliveries.js";
import { digestDays, digestPapers, findDigest, findGroup, finishDigestIfComplete, papersByIds } from "../store/digests.js";
import type { ReaderChoices } from "../subscribers/choices.js";
import { checkpointInBackground } from "../store/checkpointer.js";
import { holdSenderLease } from "../store/senders.js";
import type { Clock } from "../util/time.js";
import { digestMessageId, unsubscribeToken } from "../util/tokens.js";
import type { Mailer, RefusedStep, SendOutcome } from "./mailer.js";
import { findStatus, judgeSmtpRefusal } from "../bounces/classify.js";
import { createThrottle, type ThrottleOptions } from "./throttle.js";
import { journalFolder, openSendJournal } from "./send-journal.js";

export interface DeliverDeps {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  config: Config;
  secret: string;
  /** This process's name in the ledger. */
  owner: string;
}

/** When temporary failures (4xx) are tried again, and when a message is given up. */
export interface RetryPolicy {
  /** Pause after the 1st, 2nd, ... temporary failure; the last repeats. */
  delaysMs: readonly number[];
  /** A message still failing this long after its digest was frozen is given up. */
  giveUpMs: number;
}

/**
 * Retries spread over hours, as mail servers do (RFC 5321 4.5.4.1: at least 30
 * minutes apart once the first quick retries failed; give up after days).
 */
export const DEFAULT_RETRY: RetryPolicy = {
  delaysMs: [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 3600_000, 2 * 3600_000, 4 * 3600_000],
  giveUpMs: 3 * 86400_000,
};

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

/**
 * Why a run stopped before the digest was done; everyone not sent stays queued.
 * `sender`: the relay or the receiving servers refuse our sender or our message (a
 * 5xx to MAIL FROM, DATA or the end of the data; refusals of our side again and
 * again): a configuration matter, like `config`.
 */
export type StopReason = "unreachable" | "stalled" | "throttled" | "config" | "quota" | "sender";

/** Refusals of our side at one receiving domain in this run, with the server's last words. */
export interface SenderRefusals {
  domain: string;
  count: number;
  /** Messages this run offered that domain. */
  attempted: number;
  statusCode: string | null;
  reply: string;
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

/** This many messages in a row without any answer (no connection, a drop, a stall) mean the server is down: stop. */
const NO_ANSWER_LIMIT = 3;

/** This many refusals of our side in a row, or this many at one domain making up this share of its messages, pause the run. */
const SENDER_IN_A_ROW = 5;
const SENDER_AT_DOMAIN = 10;
const SENDER_SHARE = 0.5;

const STEP_NAMES: Record<RefusedStep, string> = { mail: "MAIL FROM (the sender)", rcpt: "RCPT TO", data: "DATA (the message)", "end-of-data": "the message" };

/**
 * A group's papers, each loaded once per send: the groups of a digest share its papers,
 * and one object per paper lets what is worked out from a paper (the topic matcher's
 * index of its words) be worked out once, not once per group.
 */
function papersOf(db: Db, ids: readonly number[], seen: Map<number, StoredPaper> | undefined): StoredPaper[] {
  if (!seen) return papersByIds(db, ids);
  const missing = ids.filter((id) => !seen.has(id));
  if (missing.length > 0) for (const p of papersByIds(db, missing)) seen.set(p.id, p);
  return ids.map((id) => seen.get(id)!).filter(Boolean);
}

/** Renderings a sender keeps at once: claims take one group's rows after another, so a few suffice. */
const TEMPLATES_KEPT = 8;

/**
 * Renders one group of a frozen digest (its readers' papers, format and footer)
 * and prepares its message for personalising. Group 0 is the whole digest.
 */
export async function prepareDigestMessage(
  db: Db,
  config: Config,
  digestId: number,
  groupNo = 0,
  allocate?: (bytes: number) => Buffer,
  papersSeen?: Map<number, StoredPaper>,
): Promise<MessageTemplate> {
  const digest = findDigest(db, digestId);
  if (!digest) throw new PapermailError("NOT_FOUND", `digest ${digestId} does not exist`);
  const group = groupNo === 0 ? undefined : findGroup(db, digestId, groupNo);
  if (groupNo !== 0 && !group) throw new PapermailError("NOT_FOUND", `digest ${digestId} has no group ${groupNo}`);
  const choices = group ? (JSON.parse(group.choices) as ReaderChoices) : undefined;
  const papers = group ? papersOf(db, group.paperIds, papersSeen) : digestPapers(db, digestId);
  // Each group's subject names its own top paper.
  const days = digestDays(digest);
  const subject = group ? digestSubject(papers.map((p) => p.title), days, digest.edition) : digest.subject;
  const rendered = await renderDigest(subject, papers, digestLinks(config, digestId), {
    thumbnails: config.thumbnails,
    edition: digest.edition,
    days,
    format: choices?.format,
    choices,
    madeAt: digest.createdAt,
    paperUrl: (slug) => paperPageUrl(config, slug),
  });
  return buildMessageTemplate(rendered, {
    from: config.from,
    date: new Date(digest.createdAt),
    listId: listId(config),
    extra: {
      "X-Papermail-Digest": String(digestId),
      // Gmail's feedback loop groups complaints by these fields (campaign:kind:product:sender); no field names a reader.
      "Feedback-ID": `d${digestId}:digest:papermail:${new URL(config.publicUrl).hostname}`,
      // RFC 3834 5: made by an automatic process, not a reply to anyone; vacation responders stay quiet.
      // No "Precedence: bulk": it is not a standard (RFC 2076 advises against it) and List-Id already says "list".
      "Auto-Submitted": "auto-generated",
    },
  }, allocate);
}

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
  // Each group is rendered when its first reader is claimed; the least recently used are let go.
  // Their buffers are reused once no message of theirs is in flight: a run over many groups
  // then holds a few renderings' worth of memory, not whatever the garbage collector has not
  // collected yet.
  interface Kept {
    template: Promise<MessageTemplate>;
    inFlight: number;
    evicted: boolean;
  }
  const kept = new Map<number, Kept>();
  const spare: Buffer[] = [];
  const allocate = (bytes: number): Buffer => {
    const i = spare.findIndex((b) => b.length >= bytes);
    if (i >= 0) return spare.splice(i, 1)[0]!;
    // Headroom, so a buffer fits the next group's rendering too.
    return Buffer.allocUnsafeSlow(Math.max(bytes + (bytes >> 2), 160 * 1024));
  };
  const recycle = (entry: Kept): void => {
    if (!entry.evicted || entry.inFlight > 0) return;
    entry.template.then(
      (t) => {
        if (spare.length < TEMPLATES_KEPT) spare.push(t.backing);
      },
      () => undefined,
    );
  };
  const papersSeen = new Map<number, StoredPaper>();
  const templateFor = (groupNo: number): Kept => {
    let entry = kept.get(groupNo);
    if (entry) kept.delete(groupNo);
    else entry = { template: prepareDigestMessage(db, config, digestId, groupNo, allocate, papersSeen), inFlight: 0, evicted: false };
    kept.set(groupNo, entry);
    if (kept.size > TEMPLATES_KEPT) {
      const [oldest, old] = kept.entries().next().value!;
      kept.delete(oldest);
      old.evicted = true;
      recycle(old);
    }
    return entry;
  };
  // The first rendering (and the template's compilation) happens before any claim: a claim takes a send slot.
  const first = nextQueuedGroup(db, digestId);
  if (first !== undefined) await templateFor(first).template;
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

  let noAnswerInARow = 0;
  let senderInARow = 0;
  const domains = new Map<string, SenderRefusals>();
  const domainOf = (email: string) => email.slice(email.lastIndexOf("@") + 1);
  let stopped: { reason: StopReason; message: string } | undefined;
  const halted = () => Boolean(options.signal?.aborted || stopped);
  const stop = (reason: StopReason, message: string) => (stopped ??= { reason, message });
  let quotaUntil: string | undefined;
  const limits = options.limits ?? {};
  const policy = options.bouncePolicy ?? { softLimit: 3, softDays: 15 };

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
      previous = undefined;
      if (claimed && "quotaUntil" in claimed) {
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
      const entry = templateFor(row.groupNo);
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
        entry.inFlight--;
        recycle(entry);
      }
      previous = settlementOf(row, outcome, clock.now(), sentAt);
      if (previous.status !== "queued") options.onProgress?.(++settled, total);
    }
    // The outcome of a message that went out is recorded whatever happens: it waits out a busy database.
    if (previous) {
      const last = previous;
      await retryWhileBusy(() => settleDelivery(db, { digestId, subscriberId: last.subscriberId, owner }, last, clock.now().toISOString(), limits.daily !== undefined));
    }
  }

  /** What the ledger records for an outcome, and what it means for the run. */
  function settlementOf(row: ClaimedDelivery, outcome: SendOutcome, at: Date, sentAt: number): Settlement {
    const subscriberId = row.subscriberId;
    // Back to the queue, due at once, without using up an attempt: not the recipient's doing.
    const requeue = (): Settlement => ({ subscriberId, status: "queued", error: "error" in outcome ? outcome.error : undefined, refund: true });
    const domain = domainOf(row.email);
    const tally = domains.get(domain) ?? { domain, count: 0, attempted: 0, statusCode: null, reply: "" };
    domains.set(domain, tally);
    if (outcome.status !== "retry") tally.attempted++;
    if (outcome.status === "sent") {
      noAnswerInARow = 0;
      senderInARow = 0;
      throttle.succeeded();
      return { subscriberId, status: "sent" };
    }
    if (outcome.status === "failed") {
      noAnswerInARow = 0;
      // This relay cannot carry it (an address that needs SMTPUTF8): not the reader's doing.
      if (outcome.relay) return { subscriberId, status: "failed", error: outcome.error, refusal: "sender" };
      const step = outcome.stage ?? "rcpt";
      const judgement = judgeSmtpRefusal(step, outcome.code, outcome.error);
      const statusCode = findStatus(outcome.error) ?? (outcome.code ? String(outcome.code) : null);
      if (judgement.kind === "sender") {
        tally.count++;
        tally.statusCode = statusCode;
        tally.reply = outcome.error;
        // MAIL FROM, DATA and the end of the data have no reader of their own: the sender or
        // the message was refused, for everyone. So is every message once refusals keep coming.
        const everyone = step !== "rcpt";
        const again = ++senderInARow >= SENDER_IN_A_ROW;
        const atDomain = tally.count >= SENDER_AT_DOMAIN && tally.count / tally.attempted >= SENDER_SHARE;
        if (everyone || again || atDomain) {
          stop(
            "sender",
            everyone
              ? `${mailer.description} refused ${STEP_NAMES[step]}: "${outcome.error}" (${judgement.reason})`
              : `${again ? `${senderInARow} refusals of our sender in a row` : `${tally.count} of ${tally.attempted} messages to ${domain} refused`}, the last from ${domain}: "${outcome.error}" (${judgement.reason})`,
          );
          if (everyone) {
            return requeue();
          }
        }
        // That reader's copy of this digest fails; the reader stays subscribed.
        const event = { subscriberId, digestId, kind: "sender" as const, reason: judgement.reason, statusCode, detail: outcome.error, source: "smtp", messageKey: null, proof: null, domain, at: at.toISOString(), about: `digest:${digestId}` };
        return { subscriberId, status: "failed", error: outcome.error, refusal: "sender", bounce: { event, policy } };
      }
      senderInARow = 0;
      // The recipient's own answer at RCPT TO: a hard or soft bounce, as one reported later by mail would be.
      const kind = judgement.kind === "hard" ? "hard" : "soft";
      const event = { subscriberId, digestId, kind, reason: judgement.reason, statusCode, detail: outcome.error, source: "smtp", messageKey: null, proof: null, domain, at: at.toISOString(), about: `digest:${digestId}` } as const;
      return { subscriberId, status: "failed", error: outcome.error, refusal: kind, bounce: { event, policy } };
    }
    if (outcome.status === "unknown") {
      if (outcome.stalled && ++noAnswerInARow >= NO_ANSWER_LIMIT) stop("stalled", `the mail server stopped answering after the message data (${outcome.error})`);
      return { subscriberId, status: "unknown", error: outcome.error };
    }
    switch (outcome.cause) {
      case "config":
        stop("config", outcome.error);
        return requeue();
      case "unreachable":
      case "connection":
        if (++noAnswerInARow >= NO_ANSWER_LIMIT) stop("unreachable", `the mail server is unreachable (${outcome.error})`);
        return requeue();
      case "throttled":
        noAnswerInARow = 0;
        if (!throttle.throttled(sentAt)) stop("throttled", `the mail server keeps asking to slow down (${outcome.error})`);
        return requeue();
      case "temporary": {
        noAnswerInARow = 0;
        const delay = retry.delaysMs[Math.min(row.attempts, retry.delaysMs.length) - 1] ?? 60_000;
        const next = at.getTime() + delay;
        if (next - frozenAt > retry.giveUpMs) {
          const hours = ((at.getTime() - frozenAt) / 3600_000).toFixed(1);
          return { subscriberId, status: "failed", error: `gave up after ${row.attempts} attempts over ${hours} h: ${outcome.error}` };
        }
        return { subscriberId, status: "queued", error: outcome.error, nextAttemptAt: new Date(next).toISOString() };
      }
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
    senderRefusals: [...domains.values()].filter((d) => d.count > 0).sort((a, b) => b.count - a.count),
    ...counts,
  };
}
