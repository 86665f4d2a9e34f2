import type { Cadence } from "../model/choices.js";
import { cachedStatement, type Db } from "./db.js";
import type { ListDays } from "./list-days.js";
import { countDeliveries, nextQueuedAt } from "./deliveries.js";
import { leaseCutoff } from "./senders.js";
import type { StoredPaper } from "../model/paper.js";

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
    /** How many papers a group may get from it (PAPERMAIL_MAX_PAPERS when it was made). */
    maxPapers?: number;
  },
): number {
  const { id } = cachedStatement<unknown[], { id: number }>(
    db,
    `INSERT INTO digests (created_at, subject, paper_count, recipient_count, status, edition, covers_after, covers_through, days_from, days_through, max_papers)
     VALUES (?, ?, ?, 0, 'sending', ?, ?, ?, ?, ?, ?) RETURNING id`,
  ).get(digest.at, digest.subject, digest.paperCount, digest.edition, digest.coversAfter ?? null, digest.coversThrough ?? null, digest.days?.from ?? null, digest.days?.through ?? null, digest.maxPapers ?? null)!;
  const addPaper = cachedStatement(db, "INSERT INTO digest_papers (digest_id, paper_id, position) VALUES (?, ?, ?)");
  digest.papers?.forEach((p, i) => addPaper.run(id, p.id, i + 1));
  return id;
}

/** Sets how many ledger rows a frozen digest has. */
export function setRecipientCount(db: Db, digestId: number, count: number): void {
  cachedStatement(db, "UPDATE digests SET recipient_count = ? WHERE id = ?").run(count, digestId);
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

/** A digest as the archive lists it: its columns, written once. */
const LISTED = (alias: string) =>
  ["id", "created_at AS createdAt", "subject", "paper_count AS paperCount", "edition", "days_from AS daysFrom", "days_through AS daysThrough"].map((c) => `${alias}.${c}`).join(", ");

export type ListedDigest = Pick<DigestSummary, "id" | "createdAt" | "subject" | "paperCount" | "edition" | "daysFrom" | "daysThrough">;

/** Digests newest first, for the archive: no send counts (those scan a digest's whole ledger). */
export function listDigests(db: Db, limit: number): ListedDigest[] {
  return db
    .prepare<[number], ListedDigest>(
      `SELECT ${LISTED("d")} FROM digests d ORDER BY id DESC LIMIT ?`,
    )
    .all(limit);
}

/** Digests whose sending has not finished (interrupted, or running elsewhere), oldest first. */
export function unfinishedDigestIds(db: Db): number[] {
  return db.prepare<[], { id: number }>("SELECT id FROM digests WHERE status = 'sending' ORDER BY id").all().map((r) => r.id);
}

/** Marks a digest done once no ledger row is queued or sending; true when it is done. */
export function finishDigestIfComplete(db: Db, digestId: number, at: string): boolean {
  db.prepare(
    `UPDATE digests SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending'
       AND NOT EXISTS (SELECT 1 FROM deliveries WHERE digest_id = ? AND status IN ('queued', 'sending'))`,
  ).run(at, digestId, digestId);
  return findDigest(db, digestId)?.status === "done";
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
    `SELECT ${LISTED("d")} FROM digest_papers dp JOIN digests d ON d.id = dp.digest_id WHERE dp.paper_id = ?`,
  ).get(paperId);
}

/** The digests just before and after one in the archive (any edition). */
export function neighbourDigests(db: Db, id: number): { previous?: ListedDigest; next?: ListedDigest } {
  return {
    previous: cachedStatement<[number], ListedDigest>(db, `SELECT ${LISTED("d")} FROM digests d WHERE id < ? ORDER BY id DESC LIMIT 1`).get(id),
    next: cachedStatement<[number], ListedDigest>(db, `SELECT ${LISTED("d")} FROM digests d WHERE id > ? ORDER BY id LIMIT 1`).get(id),
  };
}
