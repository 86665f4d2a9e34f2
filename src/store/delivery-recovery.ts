import type { Db } from "./db.js";
import { readSendJournal, removeSendJournal } from "./send-journal.js";
import { giveBackQuotaSlot } from "./send-quota.js";
import { hasLiveLease, pruneSenders } from "./senders.js";

/* Putting the ledger right after a sender died, or after an operator's decision. */

/**
 * Rows left `sending` by a sender that is gone become `unknown`: the message may
 * or may not have reached the server, so it is never re-sent on its own. A sender
 * is gone when its lease (a heartbeat in `senders`) ran out, whatever its host and
 * pid: a restarted container often has the same pid as the process that died.
 */
export function recoverInterruptedDeliveries(db: Db, now: Date, journalDir?: string, quota = false): number {
  // Rows in flight exist only in digests still being sent; each is read through the primary key.
  const digests = db.prepare<[], { id: number }>("SELECT id FROM digests WHERE status = 'sending'").all();
  const owners = db.prepare<[number], { owner: string }>("SELECT DISTINCT claimed_by AS owner FROM deliveries WHERE digest_id = ? AND status = 'sending'");
  const inFlight = db.prepare<[number, string], { subscriberId: number }>(
    "SELECT subscriber_id AS subscriberId FROM deliveries WHERE digest_id = ? AND status = 'sending' AND claimed_by = ?",
  );
  const unknown = db.prepare(
    `UPDATE deliveries SET status = 'unknown', last_error = 'interrupted while sending: it may or may not have arrived', updated_at = ?
     WHERE digest_id = ? AND subscriber_id = ? AND status = 'sending' AND claimed_by = ?`,
  );
  const requeue = db.prepare(
    `UPDATE deliveries SET status = 'queued', attempts = attempts - 1, next_attempt_at = '', last_error = 'interrupted before its data was sent: queued again', updated_at = ?
     WHERE digest_id = ? AND subscriber_id = ? AND status = 'sending' AND claimed_by = ?`,
  );
  let recovered = 0;
  const gone = new Set<string>();
  db.transaction(() => {
    for (const { id } of digests) {
      for (const { owner } of owners.all(id)) {
        if (hasLiveLease(db, owner, now)) continue;
        gone.add(owner);
        // The sender's journal says whose data it started to write; without one, every row may have arrived.
        const started = journalDir ? readSendJournal(journalDir, owner) : undefined;
        for (const { subscriberId } of inFlight.all(id, owner)) {
          if (started && !started.has(`${id} ${subscriberId}`)) {
            requeue.run(now.toISOString(), id, subscriberId, owner);
            if (quota) giveBackQuotaSlot(db);
          } else recovered += unknown.run(now.toISOString(), id, subscriberId, owner).changes;
        }
      }
    }
  })();
  if (journalDir) for (const owner of gone) removeSendJournal(journalDir, owner);
  pruneSenders(db, now);
  return recovered;
}

/** Puts `unknown` rows back in the queue (an operator's decision: duplicates are possible); reopens their digests. */
export function requeueUnknown(db: Db, now: string): number {
  return db
    .transaction(() => {
      const digests = db
        .prepare<[], { id: number }>("SELECT DISTINCT digest_id AS id FROM deliveries INDEXED BY deliveries_unknown WHERE status = 'unknown'")
        .all();
      const n = db
        .prepare("UPDATE deliveries INDEXED BY deliveries_unknown SET status = 'queued', next_attempt_at = '', updated_at = ? WHERE status = 'unknown'")
        .run(now).changes;
      const reopen = db.prepare("UPDATE digests SET status = 'sending', finished_at = NULL WHERE id = ?");
      for (const d of digests) reopen.run(d.id);
      return n;
    })
    .immediate();
}

/** Puts the rows of a digest that failed on a refusal of our side back in the queue, due now; reopens the digest. */
export function requeueSenderRefusals(db: Db, digestId: number, now: string): number {
  return db
    .transaction(() => {
      const n = db
        .prepare("UPDATE deliveries SET status = 'queued', next_attempt_at = '', refusal = NULL, updated_at = ? WHERE digest_id = ? AND status = 'failed' AND refusal = 'sender'")
        .run(now, digestId).changes;
      if (n > 0) db.prepare("UPDATE digests SET status = 'sending', finished_at = NULL WHERE id = ?").run(digestId);
      return n;
    })
    .immediate();
}
