import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config.js";
import { PapermailError } from "../errors.js";
import { renderDigest, type DigestLinks } from "../render/email.js";
import { buildMessageTemplate, fromAddress, type MessageTemplate } from "../render/mime.js";
import type { Db } from "../store/db.js";
import {
  claimDelivery,
  countDeliveries,
  nextQueuedAt,
  settleDelivery,
  type ClaimedDelivery,
  type DeliveryStatus,
  type Settlement,
} from "../store/deliveries.js";
import { digestPapers, findDigest, finishDigestIfComplete } from "../store/digests.js";
import type { Clock } from "../util/time.js";
import { hashToken, keyedId, newToken } from "../util/tokens.js";
import type { Mailer, SendOutcome } from "./mailer.js";

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
  /** Attempts per recipient for temporary failures, and the first backoff (doubled each time). */
  maxAttempts?: number;
  retryDelayMs?: number;
  /** Stop claiming new rows (Ctrl-C, SIGTERM); messages in flight finish. */
  signal?: AbortSignal;
  onProgress?: (settled: number, total: number) => void;
}

export type DeliveryReport = { digestId: number; recipients: number; complete: boolean; stopped?: string } & Record<DeliveryStatus, number>;

/** This many failed connection attempts in a row mean the server is down: stop, and leave the rest queued. */
const UNREACHABLE_LIMIT = 3;

/** The links of a digest, from the public base URL (the archive's list for a digest not frozen yet). */
export function digestLinks(config: Config, digestId?: number): DigestLinks {
  const archiveUrl = digestId === undefined ? `${config.publicUrl}/digests` : `${config.publicUrl}/digests/${digestId}`;
  return { siteUrl: `${config.publicUrl}/`, archiveUrl, feedUrl: `${config.publicUrl}/feed.xml` };
}

/** Renders a frozen digest once and prepares its message for personalising. */
export async function prepareDigestMessage(db: Db, config: Config, digestId: number): Promise<MessageTemplate> {
  const digest = findDigest(db, digestId);
  if (!digest) throw new PapermailError("NOT_FOUND", `digest ${digestId} does not exist`);
  const rendered = await renderDigest(digest.subject, digestPapers(db, digestId), digestLinks(config, digestId));
  return buildMessageTemplate(rendered, {
    from: config.from,
    date: new Date(digest.createdAt),
    listId: listId(config),
    extra: { "X-Papermail-Digest": String(digestId) },
  });
}

/** `papermail digest <digest.HOST>` for the List-Id header. */
export function listId(config: Config): string {
  return `papermail digest <digest.${new URL(config.publicUrl).hostname}>`;
}

/**
 * Sends a frozen digest to every queued ledger row: claim (committed as `sending`),
 * hand to the mailer, record the outcome. Temporary failures go back to the queue
 * with a backoff until the attempts run out; nothing is sent twice by this loop,
 * and other processes may work on the same digest at the same time.
 */
export async function deliverDigest(deps: DeliverDeps, digestId: number, options: DeliverOptions): Promise<DeliveryReport> {
  const { db, mailer, clock, config, secret, owner } = deps;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 2000;
  const template = await prepareDigestMessage(db, config, digestId);
  const envelopeFrom = fromAddress(config.from);
  const domain = envelopeFrom.split("@")[1] ?? "localhost";
  const total = findDigest(db, digestId)!.recipientCount;
  const before = countDeliveries(db, digestId);
  let settled = total - before.queued - before.sending;

  let unreachableInARow = 0;
  let stopped: string | undefined;

  async function worker(): Promise<void> {
    let previous: Settlement | undefined;
    while (!options.signal?.aborted && !stopped) {
      const token = newToken();
      const row = claimDelivery(db, digestId, owner, clock.now().toISOString(), hashToken(secret, token), previous);
      previous = undefined;
      if (!row) {
        const due = nextQueuedAt(db, digestId);
        if (due === undefined) return;
        const dueMs = due === "" ? 0 : Date.parse(due);
        const wait = Math.min(1000, Math.max(10, dueMs - clock.now().getTime()));
        await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
        continue;
      }
      const raw = template.personalise({
        to: row.email,
        messageId: `digest-${digestId}.${keyedId(secret, `message:${digestId}:${row.subscriberId}`)}@${domain}`,
        unsubscribeUrl: `${config.publicUrl}/unsubscribe/${token}`,
      });
      const outcome = await mailer.send({ from: envelopeFrom, to: row.email, raw, name: `${String(row.subscriberId).padStart(7, "0")}-${row.email.replace(/[^A-Za-z0-9@._+-]/g, "_")}` });
      if (outcome.status !== "sent" && outcome.unreachable) {
        if (++unreachableInARow >= UNREACHABLE_LIMIT) {
          // A server outage is not the recipients' fault: nobody is marked failed for it.
          stopped ??= `the mail server is unreachable (${outcome.error})`;
          previous = { subscriberId: row.subscriberId, status: "queued", error: outcome.error, refund: true };
          continue;
        }
      } else unreachableInARow = 0;
      previous = settlementOf(row, outcome, clock.now());
      if (previous.status !== "queued") options.onProgress?.(++settled, total);
    }
    if (previous) settleDelivery(db, { digestId, subscriberId: previous.subscriberId, owner }, previous, clock.now().toISOString());
  }

  /** Sent, failed, unknown, or back to the queue with a doubling backoff until the attempts run out. */
  function settlementOf(row: ClaimedDelivery, outcome: SendOutcome, at: Date): Settlement {
    const subscriberId = row.subscriberId;
    if (outcome.status === "sent") return { subscriberId, status: "sent" };
    if (outcome.status !== "retry") return { subscriberId, status: outcome.status, error: outcome.error };
    if (row.attempts >= maxAttempts) return { subscriberId, status: "failed", error: `gave up after ${row.attempts} attempts: ${outcome.error}` };
    const nextAttemptAt = new Date(at.getTime() + retryDelayMs * 2 ** (row.attempts - 1)).toISOString();
    return { subscriberId, status: "queued", error: outcome.error, nextAttemptAt };
  }

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));
  const complete = finishDigestIfComplete(db, digestId, clock.now().toISOString());
  return { digestId, recipients: total, complete, stopped, ...countDeliveries(db, digestId) };
}
