import { findStatus, judgeSmtpRefusal } from "../bounces/classify.js";
import type { BouncePolicy } from "../model/bounce.js";
import type { Settlement } from "../store/deliveries.js";
import type { RefusedStep, SendOutcome } from "./transport/mailer.js";

/**
 * What one message's outcome means: the ledger's change for its row, and whether the
 * run must stop. No I/O and no clock: everything it knows comes in, and the only thing
 * it changes is the run's tally it is given (refusals in a row, per domain). Tested as
 * a table (tests/deliver/settle.test.ts).
 */

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

/** What a run remembers between messages. */
export interface RunTally {
  noAnswerInARow: number;
  senderInARow: number;
  domains: Map<string, SenderRefusals>;
}

/** A new run's tally. */
export function newTally(): RunTally {
  return { noAnswerInARow: 0, senderInARow: 0, domains: new Map() };
}

/** This many messages in a row without any answer (no connection, a drop, a stall) mean the server is down: stop. */
export const NO_ANSWER_LIMIT = 3;
/** This many refusals of our side in a row, or this many at one domain making up this share of its messages, pause the run. */
export const SENDER_IN_A_ROW = 5;
export const SENDER_AT_DOMAIN = 10;
export const SENDER_SHARE = 0.5;

const STEP_NAMES: Record<RefusedStep, string> = { mail: "MAIL FROM (the sender)", rcpt: "RCPT TO", data: "DATA (the message)", "end-of-data": "the message" };

/** One message's outcome and what is known around it. */
export interface SettleInput {
  digestId: number;
  row: { subscriberId: number; email: string; attempts: number };
  outcome: SendOutcome;
  at: Date;
  /** When the digest was frozen (ms): retries end `retry.giveUpMs` after it. */
  frozenAt: number;
  retry: RetryPolicy;
  policy: BouncePolicy;
  /** The relay, as the operator knows it (for the stop message). */
  relay: string;
  /** For a throttled outcome: the pacing gave up (the server keeps asking to slow down). */
  throttleGaveUp?: boolean;
}

/** The ledger's change, and the stop it calls for, if any. */
export interface SettleResult {
  settlement: Settlement;
  stop?: { reason: StopReason; message: string };
}

/** Decides one outcome; updates `tally`. */
export function settle(tally: RunTally, input: SettleInput): SettleResult {
  const { row, outcome, at } = input;
  const subscriberId = row.subscriberId;
  // Back to the queue, due at once, without using up an attempt: not the recipient's doing.
  const requeue = (): Settlement => ({ subscriberId, status: "queued", error: "error" in outcome ? outcome.error : undefined, refund: true });
  const domain = row.email.slice(row.email.lastIndexOf("@") + 1);
  const counts = tally.domains.get(domain) ?? { domain, count: 0, attempted: 0, statusCode: null, reply: "" };
  tally.domains.set(domain, counts);
  if (outcome.status !== "retry") counts.attempted++;
  if (outcome.status === "sent") {
    tally.noAnswerInARow = 0;
    tally.senderInARow = 0;
    return { settlement: { subscriberId, status: "sent" } };
  }
  if (outcome.status === "failed") {
    tally.noAnswerInARow = 0;
    // This relay cannot carry it (an address that needs SMTPUTF8): not the reader's doing.
    if (outcome.relay) return { settlement: { subscriberId, status: "failed", error: outcome.error, refusal: "sender" } };
    const step = outcome.stage ?? "rcpt";
    const judgement = judgeSmtpRefusal(step, outcome.code, outcome.error);
    const statusCode = findStatus(outcome.error) ?? (outcome.code ? String(outcome.code) : null);
    const event = (kind: "sender" | "hard" | "soft") => ({
      event: { subscriberId, digestId: input.digestId, kind, reason: judgement.reason, statusCode, detail: outcome.error, source: "smtp", messageKey: null, proof: null, domain, at: at.toISOString(), about: `digest:${input.digestId}` },
      policy: input.policy,
    });
    if (judgement.kind !== "sender") {
      tally.senderInARow = 0;
      // The recipient's own answer at RCPT TO: a hard or soft bounce, as one reported later by mail would be.
      const kind = judgement.kind === "hard" ? "hard" : "soft";
      return { settlement: { subscriberId, status: "failed", error: outcome.error, refusal: kind, bounce: event(kind) } };
    }
    counts.count++;
    counts.statusCode = statusCode;
    counts.reply = outcome.error;
    // MAIL FROM, DATA and the end of the data have no reader of their own: the sender or
    // the message was refused, for everyone. So is every message once refusals keep coming.
    const everyone = step !== "rcpt";
    const again = ++tally.senderInARow >= SENDER_IN_A_ROW;
    const atDomain = counts.count >= SENDER_AT_DOMAIN && counts.count / counts.attempted >= SENDER_SHARE;
    const stop =
      everyone || again || atDomain
        ? {
            reason: "sender" as const,
            message: everyone
              ? `${input.relay} refused ${STEP_NAMES[step]}: "${outcome.error}" (${judgement.reason})`
              : `${again ? `${tally.senderInARow} refusals of our sender in a row` : `${counts.count} of ${counts.attempted} messages to ${domain} refused`}, the last from ${domain}: "${outcome.error}" (${judgement.reason})`,
          }
        : undefined;
    if (everyone) return { settlement: requeue(), stop };
    // That reader's copy of this digest fails; the reader stays subscribed.
    return { settlement: { subscriberId, status: "failed", error: outcome.error, refusal: "sender", bounce: event("sender") }, stop };
  }
  if (outcome.status === "unknown") {
    const stalled = outcome.stalled && ++tally.noAnswerInARow >= NO_ANSWER_LIMIT;
    return {
      settlement: { subscriberId, status: "unknown", error: outcome.error },
      stop: stalled ? { reason: "stalled", message: `the mail server stopped answering after the message data (${outcome.error})` } : undefined,
    };
  }
  switch (outcome.cause) {
    case "config":
      return { settlement: requeue(), stop: { reason: "config", message: outcome.error } };
    case "unreachable":
    case "connection":
      return {
        settlement: requeue(),
        stop: ++tally.noAnswerInARow >= NO_ANSWER_LIMIT ? { reason: "unreachable", message: `the mail server is unreachable (${outcome.error})` } : undefined,
      };
    case "quota":
      // Every relay is at its own daily limit: nobody's fault, everyone waits for it to free.
      return { settlement: requeue(), stop: { reason: "quota", message: `${outcome.error}; sending resumes at ${outcome.until ?? "a later run"}` } };
    case "throttled":
      tally.noAnswerInARow = 0;
      return { settlement: requeue(), stop: input.throttleGaveUp ? { reason: "throttled", message: `the mail server keeps asking to slow down (${outcome.error})` } : undefined };
    case "temporary": {
      tally.noAnswerInARow = 0;
      const delay = input.retry.delaysMs[Math.min(row.attempts, input.retry.delaysMs.length) - 1] ?? 60_000;
      const next = at.getTime() + delay;
      if (next - input.frozenAt > input.retry.giveUpMs) {
        const hours = ((at.getTime() - input.frozenAt) / 3600_000).toFixed(1);
        return { settlement: { subscriberId, status: "failed", error: `gave up after ${row.attempts} attempts over ${hours} h: ${outcome.error}` } };
      }
      return { settlement: { subscriberId, status: "queued", error: outcome.error, nextAttemptAt: new Date(next).toISOString() } };
    }
  }
}
