import type { Cadence, Format } from "../model/choices.js";
import { cachedStatement, type Db } from "./db.js";
import type { ListDays } from "./list-days.js";
import { countDeliveries, nextQueuedAt } from "./deliveries.js";
import { leaseCutoff } from "./senders.js";
import { fromRow, paperColumns } from "./papers.js";
import { type StoredPaper } from "../model/paper.js";

/** A frozen digest. */
export interface DigestSummary {
  id: number;
  createdAt: string;
  subject: string;
  paperCount: number;
  recipientCount: number;
  status: "sending" | "done";
  finishedAt: string | null;
  edition: Edition;
  /** A weekly edition: the daily digests after this one, up to coversThrough. */
  coversAfter: number | null;
  coversThrough: number | null;
  /** The list days the digest covers (null for digests made before list days were kept). */
  daysFrom: string | null;
  daysThrough: string | null;
}

const SUMMARY = `SELECT id, created_at AS createdAt, subject, paper_count AS paperCount, recipient_count AS recipientCount,
  status, finished_at AS finishedAt, edition, covers_after AS coversAfter, covers_through AS coversThrough,
  days_from AS daysFrom, days_through AS daysThrough FROM digests`;

/**
 * Digests being sent now: rows due by `now`, or a live sender working on it. A
 * digest whose remaining rows all wait for a later retry is not among them.
 */
export function activeDigestIds(db: Db, now: string, edition?: Edition): number[] {
  return cachedStatement<[string | null, string | null, string, string], { id: number }>(
    db,
    `SELECT id FROM digests d WHERE status = 'sending' AND (? IS NULL OR edition = ?) AND (
       EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_queue WHERE digest_id = d.id AND status = 'queued' AND next_attempt_at <= ?)
       OR EXISTS (SELECT 1 FROM senders WHERE digest_id = d.id AND heartbeat_at >= ?))
     ORDER BY id`,
  )
    .all(edition ?? null, edition ?? null, now, leaseCutoff(new Date(now)))
    .map((r) => r.id);
}

/** A daily edition holds papers; a weekly one gathers daily ones. Each goes to the readers of that cadence. */
export type Edition = Cadence;

/** The newest digest of any edition, or 0 when there is none: what the front page lists changes only with it. */
export function newestDigestId(db: Db): number {
  return cachedStatement<[], { id: number | null }>(db, "SELECT max(id) AS id FROM digests").get()!.id ?? 0;
}

/** The newest daily digest, or 0 when there is none. */
export function latestDailyDigestId(db: Db): number {
  return db.prepare<[], { id: number | null }>("SELECT max(id) AS id FROM digests WHERE edition = 'daily'").get()!.id ?? 0;
}

/**
 * Where a new weekly edition starts: after the daily digests the previous weekly one
 * covered, or (for the first) after the daily digests older than `since`.
 */
export function weeklyStartsAfter(db: Db, since: string): number {
  const previous = db.prepare<[], { through: number | null }>("SELECT max(covers_through) AS through FROM digests WHERE edition = 'weekly'").get()!.through;
  if (previous !== null) return previous;
  return db.prepare<[string], { id: number | null }>("SELECT max(id) AS id FROM digests WHERE edition = 'daily' AND created_at < ?").get(since)!.id ?? 0;
}

/** Inserts a digest of an edition: a daily one with its papers, a weekly one with the daily digests it covers. */
export function insertDigest(
  db: Db,
  digest: {
    edition: Edition;
    at: string;
    subject: string;
    paperCount: number;
    papers?: readonly StoredPaper[];
    coversAfter?: number;
    coversThrough?: number;
    days?: ListDays | null;
  },
): number {
  const { id } = cachedStatement<unknown[], { id: number }>(
    db,
    `INSERT INTO digests (created_at, subject, paper_count, recipient_count, status, edition, covers_after, covers_through, days_from, days_through)
     VALUES (?, ?, ?, 0, 'sending', ?, ?, ?, ?, ?) RETURNING id`,
  ).get(digest.at, digest.subject, digest.paperCount, digest.edition, digest.coversAfter ?? null, digest.coversThrough ?? null, digest.days?.from ?? null, digest.days?.through ?? null)!;
  const addPaper = cachedStatement(db, "INSERT INTO digest_papers (digest_id, paper_id, position) VALUES (?, ?, ?)");
  digest.papers?.forEach((p, i) => addPaper.run(id, p.id, i + 1));
  return id;
}

/** Papers of the daily digests after `after` up to `through`, most upvoted first. */
export function papersOfDigestsBetween(db: Db, after: number, through: number): StoredPaper[] {
  return db
    .prepare<[number, number], StoredPaper & { links: string; authors: string; keywords: string }>(
      `SELECT ${paperColumns("p")} FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id
       WHERE dp.digest_id > ? AND dp.digest_id <= ?
       ORDER BY p.upvotes_at IS NULL, p.upvotes DESC, p.published_on DESC NULLS LAST, dp.digest_id DESC, dp.position`,
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

/**
 * Readers of one cadence who share their choices and how far they have been offered
 * papers (their cursor, covered_through), as stored: one row per combination.
 */
export interface ReaderSet {
  coveredThrough: number;
  cadence: Cadence;
  topics: string;
  minUpvotes: number;
  format: Format;
  readers: number;
}

/** The active readers of a cadence, counted per combination of choices and cursor (never loaded one by one). */
export function readerSets(db: Db, cadence: Edition): ReaderSet[] {
  return cachedStatement<[string], ReaderSet>(
    db,
    `SELECT covered_through AS coveredThrough, cadence, topics, min_upvotes AS minUpvotes, format, count(*) AS readers
     FROM subscribers WHERE status = 'active' AND cadence = ?
     GROUP BY covered_through, topics, min_upvotes, format ORDER BY min(id)`,
  ).all(cadence);
}

/** How many active readers a cadence has. */
export function countReaders(db: Db, cadence: Edition): number {
  return db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM subscribers WHERE status = 'active' AND cadence = ?").get(cadence)!.n;
}

/** A group of an edition's readers who share one rendering. */
export interface DigestGroup {
  groupNo: number;
  /** The choices that made the group (JSON: topics, minUpvotes, format, cadence). */
  choices: string;
  coversAfter: number;
  coversThrough: number;
  paperIds: number[];
  recipients: number;
}

/** Stores a group of a digest. */
export function insertGroup(db: Db, digestId: number, group: DigestGroup): void {
  db.prepare(
    "INSERT INTO digest_groups (digest_id, group_no, choices, covers_after, covers_through, paper_ids, recipients) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(digestId, group.groupNo, group.choices, group.coversAfter, group.coversThrough, JSON.stringify(group.paperIds), group.recipients);
}

/** Where each set of readers goes: its group, and why it is skipped when the edition holds nothing for it. */
export interface SetAssignment {
  set: ReaderSet;
  groupNo: number;
  skipReason?: string;
}

/**
 * Writes a ledger row for every active reader of a cadence, in one statement: queued
 * in their set's group, or skipped with the reason. The sets go through a temporary
 * table, so no reader is loaded into memory.
 */
export function insertReaderRows(db: Db, digestId: number, cadence: Edition, assignments: readonly SetAssignment[], at: string): number {
  db.exec(
    `CREATE TEMP TABLE IF NOT EXISTS edition_plan (
       covered_through INTEGER, topics TEXT, min_upvotes INTEGER, format TEXT, group_no INTEGER, status TEXT, reason TEXT,
       PRIMARY KEY (covered_through, topics, min_upvotes, format))`,
  );
  db.exec("DELETE FROM temp.edition_plan");
  const plan = db.prepare("INSERT INTO temp.edition_plan VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (const a of assignments) {
    plan.run(a.set.coveredThrough, a.set.topics, a.set.minUpvotes, a.set.format, a.groupNo, a.skipReason ? "skipped" : "queued", a.skipReason ?? null);
  }
  const rows = db
    .prepare(
      `INSERT INTO deliveries (digest_id, subscriber_id, status, group_no, last_error, updated_at)
       SELECT ?, s.id, p.status, p.group_no, p.reason, ? FROM subscribers s
       JOIN temp.edition_plan p ON p.covered_through = s.covered_through AND p.topics = s.topics AND p.min_upvotes = s.min_upvotes AND p.format = s.format
       WHERE s.status = 'active' AND s.cadence = ?`,
    )
    .run(digestId, at, cadence).changes;
  db.exec("DELETE FROM temp.edition_plan");
  return rows;
}

/** Records that the readers of a cadence have now been offered every daily digest up to `through`. */
export function advanceReaders(db: Db, cadence: Edition, through: number): void {
  cachedStatement(db, "UPDATE subscribers SET covered_through = ? WHERE status = 'active' AND cadence = ? AND covered_through < ?").run(through, cadence, through);
}

/** Sets how many ledger rows a frozen digest has. */
export function setRecipientCount(db: Db, digestId: number, count: number): void {
  cachedStatement(db, "UPDATE digests SET recipient_count = ? WHERE id = ?").run(count, digestId);
}

/** One group of a digest; group 0 (rows frozen before groups existed) is the whole digest. */
export function findGroup(db: Db, digestId: number, groupNo: number): DigestGroup | undefined {
  const row = cachedStatement<[number, number], Omit<DigestGroup, "paperIds"> & { paperIds: string }>(
    db,
    `SELECT group_no AS groupNo, choices, covers_after AS coversAfter, covers_through AS coversThrough, paper_ids AS paperIds, recipients
     FROM digest_groups WHERE digest_id = ? AND group_no = ?`,
  ).get(digestId, groupNo);
  return row && { ...row, paperIds: JSON.parse(row.paperIds) as number[] };
}

/** Papers by id, in the order given. */
export function papersByIds(db: Db, ids: readonly number[]): StoredPaper[] {
  const rows = cachedStatement<[string], StoredPaper & { links: string; authors: string; keywords: string }>(
    db,
    `SELECT ${paperColumns("p")} FROM json_each(?) j JOIN papers p ON p.id = j.value ORDER BY j.key`,
  ).all(JSON.stringify(ids));
  return rows.map(fromRow);
}

/** The list days a digest covers, or null for one made before list days were kept. */
export function digestDays(digest: Pick<DigestSummary, "daysFrom" | "daysThrough">): ListDays | null {
  return digest.daysFrom && digest.daysThrough ? { from: digest.daysFrom, through: digest.daysThrough } : null;
}

/** One digest by id (a primary-key read: its ledger is not counted). */
export function findDigest(db: Db, id: number): DigestSummary | undefined {
  return cachedStatement<[number], DigestSummary>(db, `${SUMMARY} WHERE id = ?`).get(id);
}

/** The most recent digest, with how many of its messages were sent (which reads its ledger). */
export function latestDigest(db: Db): (DigestSummary & { sent: number }) | undefined {
  return db
    .prepare<[], DigestSummary & { sent: number }>(
      `SELECT *, coalesce((SELECT sent FROM digest_totals WHERE digest_id = last.id),
                          (SELECT count(*) FROM deliveries WHERE digest_id = last.id AND status = 'sent')) AS sent
       FROM (${SUMMARY} ORDER BY id DESC LIMIT 1) AS last`,
    )
    .get();
}

/** A digest as the archive lists it. */
export type ListedDigest = Pick<DigestSummary, "id" | "createdAt" | "subject" | "paperCount" | "edition" | "daysFrom" | "daysThrough">;

/** Digests newest first, for the archive: no send counts (those scan a digest's whole ledger). */
export function listDigests(db: Db, limit: number): ListedDigest[] {
  return db
    .prepare<[number], ListedDigest>(
      "SELECT id, created_at AS createdAt, subject, paper_count AS paperCount, edition, days_from AS daysFrom, days_through AS daysThrough FROM digests ORDER BY id DESC LIMIT ?",
    )
    .all(limit);
}

/** Digests whose sending has not finished (interrupted, or running elsewhere), oldest first. */
export function unfinishedDigestIds(db: Db): number[] {
  return db.prepare<[], { id: number }>("SELECT id FROM digests WHERE status = 'sending' ORDER BY id").all().map((r) => r.id);
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

/** Marks a digest done once no ledger row is queued or sending; true when it is done. */
export function finishDigestIfComplete(db: Db, digestId: number, at: string): boolean {
  db.prepare(
    `UPDATE digests SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending'
       AND NOT EXISTS (SELECT 1 FROM deliveries WHERE digest_id = ? AND status IN ('queued', 'sending'))`,
  ).run(at, digestId, digestId);
  return findDigest(db, digestId)?.status === "done";
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

/** A digest whose remaining recipients wait for a later retry. */
export interface WaitingDigest {
  digestId: number;
  queued: number;
  nextAttemptAt: string | null;
}

/** Unfinished digests with their queued rows and when the next is due. */
export function waitingDigests(db: Db, now: Date): WaitingDigest[] {
  return unfinishedDigestIds(db).map((digestId) => {
    const queued = countDeliveries(db, digestId).queued;
    const next = queued > 0 ? nextQueuedAt(db, digestId) : undefined;
    return { digestId, queued, nextAttemptAt: next === undefined ? null : next === "" ? now.toISOString() : next };
  });
}

/** The daily digest that carried a paper, if one did. */
export function digestOfPaper(db: Db, paperId: number): ListedDigest | undefined {
  return cachedStatement<[number], ListedDigest>(
    db,
    `SELECT d.id, d.created_at AS createdAt, d.subject, d.paper_count AS paperCount, d.edition, d.days_from AS daysFrom, d.days_through AS daysThrough
       FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id WHERE dp.paper_id = ?`,
  ).get(paperId);
}

/** The digests just before and after one in the archive (any edition). */
export function neighbourDigests(db: Db, id: number): { previous?: ListedDigest; next?: ListedDigest } {
  const columns = "id, created_at AS createdAt, subject, paper_count AS paperCount, edition, days_from AS daysFrom, days_through AS daysThrough";
  return {
    previous: cachedStatement<[number], ListedDigest>(db, `SELECT ${columns} FROM digests WHERE id < ? ORDER BY id DESC LIMIT 1`).get(id),
    next: cachedStatement<[number], ListedDigest>(db, `SELECT ${columns} FROM digests WHERE id > ? ORDER BY id LIMIT 1`).get(id),
  };
}
