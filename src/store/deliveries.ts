import type Database from "better-sqlite3";
import { cachedStatement, type Db } from "./db.js";
import { recordBounceEvent, type BounceEvent, type BouncePolicy } from "./bounces.js";
import { countAgainstQuota, giveBackQuotaSlot, quotaResumesAt, takeSendSlot } from "./send-quota.js";

export type DeliveryStatus = "queued" | "sending" | "sent" | "failed" | "unknown" | "skipped";

/** A ledger row claimed for sending: now `sending`, committed before anything goes out. */
export interface ClaimedDelivery {
  subscriberId: number;
  email: string;
  attempts: number;
  /** The group whose rendering this reader gets. */
  groupNo: number;
  /** With a send rate: when (epoch ms) this message's slot comes; send it then. */
  slotMs?: number;
}

/** The relay's limits, kept in the database so every connection and process shares them. */
export interface SendLimits {
  /** Messages per second. */
  rate?: number;
  /** Messages per rolling 24 hours. */
  daily?: number;
}

/** The daily quota is used up: nothing is claimed until `until`. */
export interface QuotaReached {
  quotaUntil: string;
}

/**
 * Claims the next due row of a digest in one IMMEDIATE transaction, so two senders
 * never take the same row. Rows of people who left meanwhile become `skipped`. With
 * limits, the claim also takes a send slot and counts against the daily quota, in
 * the same transaction; when the quota is used up, nothing is claimed.
 */
export function claimDelivery(
  db: Db,
  digestId: number,
  owner: string,
  now: string,
  /** The outcome of this sender's previous message, recorded in the same transaction: one commit per message. */
  previous?: Settlement,
  limits: SendLimits = {},
): ClaimedDelivery | QuotaReached | undefined {
  let claimer = claimers.get(db);
  if (!claimer) claimers.set(db, (claimer = makeClaimer(db)));
  return claimer.immediate(digestId, owner, now, previous, limits);
}

/** What became of a claimed row. */
export interface Settlement {
  subscriberId: number;
  status: "sent" | "failed" | "unknown" | "queued";
  error?: string;
  nextAttemptAt?: string;
  /** Back to the queue without using up an attempt (the run stopped before trying for real). */
  refund?: boolean;
  /** Whose side a 5xx answer was about: the reader's (hard, soft) or ours (sender). */
  refusal?: "hard" | "soft" | "sender";
  /** A 5xx answer at SMTP time: a bounce or a refusal of our side, recorded with the outcome. */
  bounce?: { event: BounceEvent; policy: BouncePolicy };
}

type Claimer = Database.Transaction<
  (digestId: number, owner: string, now: string, previous: Settlement | undefined, limits: SendLimits) => ClaimedDelivery | QuotaReached | undefined
>;
const claimers = new WeakMap<Db, Claimer>();

function makeClaimer(db: Db): Claimer {
  // Ordered by the queue index alone (digest, due time): no sort over the queue for each claim.
  const next = db.prepare<[number, string], ClaimedDelivery & { subscriberStatus: string }>(
    `SELECT d.subscriber_id AS subscriberId, s.email, s.status AS subscriberStatus, d.attempts, d.group_no AS groupNo
     FROM deliveries d INDEXED BY deliveries_queue JOIN subscribers s ON s.id = d.subscriber_id
     WHERE d.digest_id = ? AND d.status = 'queued' AND d.next_attempt_at <= ?
     ORDER BY d.next_attempt_at, d.group_no LIMIT 1`,
  );
  const skip = db.prepare(
    "UPDATE deliveries SET status = 'skipped', last_error = 'unsubscribed before sending', updated_at = ? WHERE digest_id = ? AND subscriber_id = ?",
  );
  const claim = db.prepare(
    `UPDATE deliveries SET status = 'sending', claimed_by = ?, attempts = attempts + 1, updated_at = ?
     WHERE digest_id = ? AND subscriber_id = ? AND status = 'queued'`,
  );
  return db.transaction((digestId: number, owner: string, now: string, previous: Settlement | undefined, limits: SendLimits) => {
    if (previous) settleDelivery(db, { digestId, subscriberId: previous.subscriberId, owner }, previous, now, limits.daily !== undefined);
    const nowMs = Date.parse(now);
    if (limits.daily !== undefined) {
      const until = quotaResumesAt(db, limits.daily, nowMs);
      if (until) return { quotaUntil: until };
    }
    for (;;) {
      const row = next.get(digestId, now);
      if (!row) return undefined;
      if (row.subscriberStatus !== "active") {
        skip.run(now, digestId, row.subscriberId);
        continue;
      }
      claim.run(owner, now, digestId, row.subscriberId);
      const claimed: ClaimedDelivery = { subscriberId: row.subscriberId, email: row.email, attempts: row.attempts + 1, groupNo: row.groupNo };
      if (limits.daily !== undefined) {
        countAgainstQuota(db, nowMs);
      }
      if (limits.rate !== undefined) claimed.slotMs = takeSendSlot(db, limits.rate, nowMs);
      return claimed;
    }
  });
}

/**
 * Records what became of a claimed row; only the claimer can. A row another run
 * marked `unknown` while this sender could not renew its lease (a long write lock)
 * still takes the outcome its sender knows.
 */
export function settleDelivery(
  db: Db,
  key: { digestId: number; subscriberId: number; owner: string },
  result: Omit<Settlement, "subscriberId">,
  now: string,
  /** The claim counted against the daily quota (PAPERMAIL_SMTP_DAILY_LIMIT set). */
  quota = false,
): void {
  const settle = () => {
    cachedStatement(
      db,
      `UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = ?, updated_at = ?, attempts = attempts - ?, refusal = ?
       WHERE digest_id = ? AND subscriber_id = ? AND claimed_by = ? AND status IN ('sending', 'unknown')`,
    ).run(result.status, result.error ?? null, result.nextAttemptAt ?? "", now, result.refund ? 1 : 0, result.refusal ?? null, key.digestId, key.subscriberId, key.owner);
    // The quota counts what the relay took (sent) or may have taken (unknown); a refusal or a
    // message that never went out gives its place back, so a run sends exactly up to the limit.
    if (quota && (result.status === "queued" || result.status === "failed")) giveBackQuotaSlot(db);
    if (result.bounce) recordBounceEvent(db, result.bounce.event, result.bounce.policy);
  };
  // The outcome and the bounce it makes are one write (a savepoint inside the claim's transaction).
  if (result.bounce) db.transaction(settle)();
  else settle();
}

/** The group of the next queued row of a digest (the one claimed first), if any. */
export function nextQueuedGroup(db: Db, digestId: number): number | undefined {
  return db
    .prepare<[number], { groupNo: number }>(
      "SELECT group_no AS groupNo FROM deliveries INDEXED BY deliveries_queue WHERE digest_id = ? AND status = 'queued' ORDER BY next_attempt_at, group_no LIMIT 1",
    )
    .get(digestId)?.groupNo;
}

/** When the earliest queued row of a digest is due ('' = now), or undefined when none is queued. */
export function nextQueuedAt(db: Db, digestId: number): string | undefined {
  const row = db
    .prepare<[number], { at: string | null }>("SELECT min(next_attempt_at) AS at FROM deliveries WHERE digest_id = ? AND status = 'queued'")
    .get(digestId);
  return row?.at ?? undefined;
}

/** Ledger rows of a digest per status (from its totals once its rows were compacted). */
export function countDeliveries(db: Db, digestId: number): Record<DeliveryStatus, number> {
  const counts: Record<DeliveryStatus, number> = { queued: 0, sending: 0, sent: 0, failed: 0, unknown: 0, skipped: 0 };
  const compacted = cachedStatement<[number], { sent: number; failed: number; unknown: number; skipped: number }>(
    db,
    "SELECT sent, failed, unknown, skipped FROM digest_totals WHERE digest_id = ?",
  ).get(digestId);
  if (compacted) return { ...counts, ...compacted };
  const rows = db.prepare<[number], { status: DeliveryStatus; n: number }>("SELECT status, count(*) AS n FROM deliveries WHERE digest_id = ? GROUP BY status").all(digestId);
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

/**
 * Messages sent since `since`, read from the ledger of the digests that can hold them
 * (made in the last two days, or still sending): with no daily limit, no quota counts
 * them as they go, and a count for `status` is not worth a write per message.
 */
export function sentSince(db: Db, since: string): number {
  return cachedStatement<[string, string], { n: number }>(
    db,
    `SELECT count(*) AS n FROM deliveries WHERE digest_id IN (SELECT id FROM digests WHERE created_at >= ? OR status = 'sending')
       AND status = 'sent' AND updated_at >= ?`,
  ).get(new Date(Date.parse(since) - 86400_000).toISOString(), since)!.n;
}

/** The subscriber an unsubscribe token of an older version (random, kept as a hash in the ledger) was issued to. */
export function findSubscriberByUnsubscribeToken(db: Db, tokenHash: string): number | undefined {
  return db
    .prepare<[string], { id: number }>("SELECT subscriber_id AS id FROM deliveries WHERE unsubscribe_token_hash = ?")
    .get(tokenHash)?.id;
}

/**
 * True when papermail sent (or tried to send) this digest to this subscriber: a
 * ledger row, or the digest's totals once its rows were compacted away.
 */
export function wasMailed(db: Db, digestId: number, subscriberId: number): boolean {
  if (cachedStatement<[number, number], { n: number }>(db, "SELECT count(*) AS n FROM deliveries WHERE digest_id = ? AND subscriber_id = ? AND status <> 'queued'").get(digestId, subscriberId)!.n > 0) return true;
  return cachedStatement<[number], { n: number }>(db, "SELECT count(*) AS n FROM digest_totals WHERE digest_id = ?").get(digestId)!.n > 0;
}
