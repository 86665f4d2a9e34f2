import type { StoredPaper } from "../model/paper.js";
import { rankOrder } from "../model/rank.js";
import { cachedStatement, type Db } from "./db.js";
import { findDigest } from "./digests.js";
import type { ListDays } from "./list-days.js";
import { fromRow, paperColumns } from "./papers.js";

/* The papers digests hold (digest_papers): frozen in order when a daily digest is made. */

/** Papers of the daily digests after `after` up to `through`, most upvoted first. */
export function papersOfDigestsBetween(db: Db, after: number, through: number): StoredPaper[] {
  return db
    .prepare<[number, number], StoredPaper & { links: string; authors: string; keywords: string }>(
      `SELECT ${paperColumns("p")} FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id
       WHERE dp.digest_id > ? AND dp.digest_id <= ?
       ORDER BY ${rankOrder("p")}`,
    )
    .all(after, through)
    .map(fromRow);
}

/** The list days the daily digests after `after` up to `through` covered, or null when they name none. */
export function daysOfDigestsBetween(db: Db, after: number, through: number): ListDays | null {
  const row = db
    .prepare<[number, number], { from: string | null; through: string | null }>(
      "SELECT min(days_from) AS \"from\", max(days_through) AS through FROM digests WHERE edition = 'daily' AND id > ? AND id <= ?",
    )
    .get(after, through)!;
  return row.from && row.through ? { from: row.from, through: row.through } : null;
}

/** Papers by id, in the order given. */
export function papersByIds(db: Db, ids: readonly number[]): StoredPaper[] {
  const rows = cachedStatement<[string], StoredPaper & { links: string; authors: string; keywords: string }>(
    db,
    `SELECT ${paperColumns("p")} FROM json_each(?) j JOIN papers p ON p.id = j.value ORDER BY j.key`,
  ).all(JSON.stringify(ids));
  return rows.map(fromRow);
}

/** The papers of a digest in their frozen order; a weekly edition's are those of the daily digests it covers. */
export function digestPapers(db: Db, digestId: number): StoredPaper[] {
  const digest = findDigest(db, digestId);
  if (digest?.edition === "weekly") return papersOfDigestsBetween(db, digest.coversAfter ?? 0, digest.coversThrough ?? 0);
  return db
    .prepare<[number], StoredPaper & { links: string }>(
      `SELECT ${paperColumns("p")} FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id
       WHERE dp.digest_id = ? ORDER BY dp.position`,
    )
    .all(digestId)
    .map(fromRow);
}

/** Papers as they were published in digests, newest digest first: the feed's items. */
export function publishedPapers(db: Db, limit: number): Array<StoredPaper & { digestId: number; digestCreatedAt: string }> {
  return db
    .prepare<[number], StoredPaper & { links: string; digestId: number; digestCreatedAt: string }>(
      `SELECT ${paperColumns("p")}, d.id AS digestId, d.created_at AS digestCreatedAt
       FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id JOIN digests d ON d.id = dp.digest_id
       ORDER BY d.id DESC, dp.position LIMIT ?`,
    )
    .all(limit)
    .map((r) => ({ ...fromRow(r), digestId: r.digestId, digestCreatedAt: r.digestCreatedAt }));
}
