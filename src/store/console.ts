import { cachedStatement, type Db } from "./db.js";

/** Readers who joined, left, bounced or complained, per day since `since` (YYYY-MM-DD). */
export function readerChangesByDay(db: Db, since: string): Array<{ day: string; joined: number; left: number; bounced: number; complained: number }> {
  return cachedStatement<[string, string, string], { day: string; joined: number; left: number; bounced: number; complained: number }>(
    db,
    `SELECT day, sum(joined) AS joined, sum(left_) AS left, sum(bounced) AS bounced, sum(complained) AS complained FROM (
       SELECT substr(confirmed_at, 1, 10) AS day, 1 AS joined, 0 AS left_, 0 AS bounced, 0 AS complained FROM subscribers WHERE confirmed_at >= ?
       UNION ALL SELECT substr(unsubscribed_at, 1, 10), 0, 1, 0, 0 FROM subscribers WHERE unsubscribed_at >= ?
       UNION ALL SELECT substr(suppressed_at, 1, 10), 0, 0, status = 'bounced', status = 'complained' FROM subscribers WHERE suppressed_at >= ? AND status IN ('bounced', 'complained'))
     GROUP BY day ORDER BY day`,
  ).all(since, since, since);
}

/** The newest digests with each outcome of their messages, and the bounces and complaints they brought. */
export function digestOutcomes(db: Db, limit: number) {
  return cachedStatement<[number], { id: number; subject: string; createdAt: string; edition: string; recipients: number; sent: number; waiting: number; failed: number; unknown: number; skipped: number; bounced: number; complained: number }>(
    db,
    `SELECT d.id, d.subject, d.created_at AS createdAt, d.edition, d.recipient_count AS recipients,
       coalesce(t.sent, (SELECT count(*) FROM deliveries WHERE digest_id = d.id AND status = 'sent')) AS sent,
       (SELECT count(*) FROM deliveries WHERE digest_id = d.id AND status IN ('queued', 'sending')) AS waiting,
       coalesce(t.failed, (SELECT count(*) FROM deliveries WHERE digest_id = d.id AND status = 'failed')) AS failed,
       coalesce(t.unknown, (SELECT count(*) FROM deliveries WHERE digest_id = d.id AND status = 'unknown')) AS unknown,
       coalesce(t.skipped, (SELECT count(*) FROM deliveries WHERE digest_id = d.id AND status = 'skipped')) AS skipped,
       (SELECT count(*) FROM bounce_events WHERE digest_id = d.id AND kind = 'hard') AS bounced,
       (SELECT count(*) FROM bounce_events WHERE digest_id = d.id AND kind = 'complaint') AS complained
     FROM digests d LEFT JOIN digest_totals t ON t.digest_id = d.id ORDER BY d.id DESC LIMIT ?`,
  ).all(limit);
}

/** Papers per list day, the newest `days` list days. */
export function papersPerListDay(db: Db, days: number): Array<{ day: string; papers: number }> {
  return cachedStatement<[number], { day: string; papers: number }>(
    db,
    "SELECT list_day AS day, count(*) AS papers FROM papers WHERE demo = 0 GROUP BY list_day ORDER BY list_day DESC LIMIT ?",
  )
    .all(days)
    .reverse();
}

/** The newest rejected dump files and why. */
export function rejectedDumps(db: Db, limit: number): Array<{ path: string; error: string | null; at: string }> {
  return cachedStatement<[number], { path: string; error: string | null; at: string }>(db, "SELECT path, error, ingested_at AS at FROM dumps WHERE status = 'rejected' ORDER BY id DESC LIMIT ?").all(limit);
}

/** Bounces and refusals per receiving domain since `since`, by kind. */
export function bouncesByDomain(db: Db, since: string, limit: number): Array<{ domain: string; hard: number; soft: number; sender: number; complaint: number }> {
  return cachedStatement<[string, number], { domain: string; hard: number; soft: number; sender: number; complaint: number }>(
    db,
    `SELECT coalesce(domain, '?') AS domain, count(*) FILTER (WHERE kind = 'hard') AS hard, count(*) FILTER (WHERE kind = 'soft') AS soft,
       count(*) FILTER (WHERE kind = 'sender') AS sender, count(*) FILTER (WHERE kind = 'complaint') AS complaint
     FROM bounce_events WHERE at >= ? GROUP BY domain ORDER BY count(*) DESC LIMIT ?`,
  ).all(since, limit);
}

/** Readers whose address contains `text`, newest first. */
export function findReaders(db: Db, text: string, limit: number): Array<{ id: number; email: string; status: string; createdAt: string }> {
  const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return cachedStatement<[string, number], { id: number; email: string; status: string; createdAt: string }>(
    db,
    // An address the operator suppressed says so, whatever its status underneath.
    `SELECT id, email, CASE WHEN suppressed_by = 'operator' THEN 'suppressed (' || status || ')' ELSE status END AS status, created_at AS createdAt
     FROM subscribers WHERE email LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ?`,
  ).all(like, limit);
}

/** A reader's digests: each message's outcome. */
export function readerDeliveries(db: Db, subscriberId: number, limit: number) {
  return cachedStatement<[number, number], { digestId: number; subject: string; status: string; attempts: number; error: string | null; at: string }>(
    db,
    `SELECT d.digest_id AS digestId, g.subject, d.status, d.attempts, d.last_error AS error, d.updated_at AS at
     FROM deliveries d JOIN digests g ON g.id = d.digest_id WHERE d.subscriber_id = ? ORDER BY d.digest_id DESC LIMIT ?`,
  ).all(subscriberId, limit);
}

/** A reader's bounce and complaint events, with their proof. */
export function readerBounceEvents(db: Db, subscriberId: number) {
  return cachedStatement<[number], { kind: string; reason: string | null; statusCode: string | null; detail: string | null; proof: string | null; source: string; at: string }>(
    db,
    "SELECT kind, reason, status_code AS statusCode, detail, proof, source, at FROM bounce_events WHERE subscriber_id = ? ORDER BY id DESC",
  ).all(subscriberId);
}
