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
 * delivered, over the last 7 days. Delivered messages are those of the digests made in
 * the window: their ledger's `sent` rows, or their totals once compacted.
 */
export function complaintRate(db: Db, now: Date): ComplaintRate {
  const since = new Date(now.getTime() - COMPLAINT_WINDOW_DAYS * 86400_000).toISOString();
  const complaints = cachedStatement<[string], { n: number }>(db, "SELECT count(*) AS n FROM bounce_events WHERE kind = 'complaint' AND at > ?").get(since)!.n;
  const delivered = cachedStatement<[string], { n: number }>(
    db,
    // Only the window's digests are read (their rows through the ledger's key), never the whole ledger:
    // /healthz and every scrape ask for this.
    `SELECT coalesce(sum(coalesce(t.sent, (SELECT count(*) FROM deliveries l WHERE l.digest_id = d.id AND l.status = 'sent'))), 0) AS n
     FROM digests d LEFT JOIN digest_totals t ON t.digest_id = d.id WHERE d.created_at > ?`,
  ).get(since)!.n;
  return { complaints, delivered, rate: delivered > 0 ? complaints / delivered : 0 };
}
