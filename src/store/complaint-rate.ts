import { cachedStatement, type Db } from "./db.js";

/** The window the mailbox providers judge a sender's complaints over. */
export const COMPLAINT_WINDOW_DAYS = 7;

/** Complaints over messages delivered, in the last COMPLAINT_WINDOW_DAYS. */
export interface ComplaintRate {
  complaints: number;
  delivered: number;
  /** complaints / delivered; 0 when nothing was delivered. */
  rate: number;
}

/**
 * The complaint rate as Gmail and Yahoo count it: complaints received over messages
 * delivered, over the last 7 days. Delivered messages are the ledger's `sent` rows of the
 * window, and the totals of digests of the window whose rows were compacted.
 */
export function complaintRate(db: Db, now: Date): ComplaintRate {
  const since = new Date(now.getTime() - COMPLAINT_WINDOW_DAYS * 86400_000).toISOString();
  const complaints = cachedStatement<[string], { n: number }>(db, "SELECT count(*) AS n FROM bounce_events WHERE kind = 'complaint' AND at > ?").get(since)!.n;
  const delivered = cachedStatement<[string, string], { n: number }>(
    db,
    `SELECT (SELECT count(*) FROM deliveries WHERE status = 'sent' AND updated_at > ?)
          + (SELECT coalesce(sum(t.sent), 0) FROM digest_totals t JOIN digests d ON d.id = t.digest_id WHERE d.created_at > ?) AS n`,
  ).get(since, since)!.n;
  return { complaints, delivered, rate: delivered > 0 ? complaints / delivered : 0 };
}
