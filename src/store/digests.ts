import type { Db } from "./db.js";
import { countDeliveries, nextQueuedAt } from "./deliveries.js";
import { leaseCutoff } from "./senders.js";
import { fromRow, paperColumns, type StoredPaper } from "./papers.js";

/** A frozen digest and how its sending stands. */
export interface DigestSummary {
  id: number;
  createdAt: string;
  subject: string;
  paperCount: number;
  recipientCount: number;
  status: "sending" | "done";
  finishedAt: string | null;
  sent: number;
}

const SUMMARY = `SELECT id, created_at AS createdAt, subject, paper_count AS paperCount, recipient_count AS recipientCount,
  status, finished_at AS finishedAt,
  coalesce((SELECT sent FROM digest_totals WHERE digest_id = digests.id),
           (SELECT count(*) FROM deliveries WHERE digest_id = digests.id AND status = 'sent')) AS sent FROM digests`;

/**
 * Papers no digest holds yet, in digest order: most upvoted first, ties newest first.
 * Demo papers (bundled samples) only while papermail runs unconfigured, as a demo.
 */
export function selectUnsentPapers(db: Db, limit: number, options: { includeDemo: boolean }): StoredPaper[] {
  return db
    .prepare<[number, number], StoredPaper & { links: string; authors: string; keywords: string }>(
      `SELECT ${paperColumns()} FROM papers WHERE id NOT IN (SELECT paper_id FROM digest_papers) AND (demo = 0 OR ?)
       ORDER BY upvotes DESC, published_on DESC NULLS LAST, first_seen_at DESC, id DESC LIMIT ?`,
    )
    .all(options.includeDemo ? 1 : 0, limit)
    .map(fromRow);
}

/**
 * Digests being sent now: rows due by `now`, or a live sender working on it. A
 * digest whose remaining rows all wait for a later retry is not among them.
 */
export function activeDigestIds(db: Db, now: string): number[] {
  return db
    .prepare<[string, string], { id: number }>(
      `SELECT id FROM digests d WHERE status = 'sending' AND (
         EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_queue WHERE digest_id = d.id AND status = 'queued' AND next_attempt_at <= ?)
         OR EXISTS (SELECT 1 FROM senders WHERE digest_id = d.id AND heartbeat_at >= ?))
       ORDER BY id`,
    )
    .all(now, leaseCutoff(new Date(now)))
    .map((r) => r.id);
}

/**
 * Freezes the next digest in one IMMEDIATE transaction: its papers (each in one
 * digest only) and a queued ledger row for every active subscriber. Returns its id,
 * or undefined when no paper is waiting, or when another digest is being sent
 * right now (an overlapping run publishes nothing new).
 */
export function freezeDigest(
  db: Db,
  options: { maxPapers: number; at: string; subject: (papers: readonly StoredPaper[]) => string; includeDemo?: boolean },
): number | undefined {
  return db
    .transaction(() => {
      if (activeDigestIds(db, options.at).length > 0) return undefined;
      const papers = selectUnsentPapers(db, options.maxPapers, { includeDemo: options.includeDemo ?? false });
      if (papers.length === 0) return undefined;
      const { id } = db
        .prepare<unknown[], { id: number }>(
          "INSERT INTO digests (created_at, subject, paper_count, recipient_count, status) VALUES (?, ?, ?, 0, 'sending') RETURNING id",
        )
        .get(options.at, options.subject(papers), papers.length)!;
      const addPaper = db.prepare("INSERT INTO digest_papers (digest_id, paper_id, position) VALUES (?, ?, ?)");
      papers.forEach((p, i) => addPaper.run(id, p.id, i + 1));
      const queued = db
        .prepare(
          `INSERT INTO deliveries (digest_id, subscriber_id, status, updated_at)
           SELECT ?, id, 'queued', ? FROM subscribers WHERE status = 'active'`,
        )
        .run(id, options.at).changes;
      db.prepare("UPDATE digests SET recipient_count = ? WHERE id = ?").run(queued, id);
      return id;
    })
    .immediate();
}

/** One digest by id. */
export function findDigest(db: Db, id: number): DigestSummary | undefined {
  return db.prepare<[number], DigestSummary>(`${SUMMARY} WHERE id = ?`).get(id);
}

/** The most recent digest. */
export function latestDigest(db: Db): DigestSummary | undefined {
  return db.prepare<[], DigestSummary>(`${SUMMARY} ORDER BY id DESC LIMIT 1`).get();
}

/** A digest as the archive lists it. */
export type ListedDigest = Pick<DigestSummary, "id" | "createdAt" | "subject" | "paperCount">;

/** Digests newest first, for the archive: no send counts (those scan a digest's whole ledger). */
export function listDigests(db: Db, limit: number): ListedDigest[] {
  return db
    .prepare<[number], ListedDigest>("SELECT id, created_at AS createdAt, subject, paper_count AS paperCount FROM digests ORDER BY id DESC LIMIT ?")
    .all(limit);
}

/** Digests whose sending has not finished (interrupted, or running elsewhere), oldest first. */
export function unfinishedDigestIds(db: Db): number[] {
  return db.prepare<[], { id: number }>("SELECT id FROM digests WHERE status = 'sending' ORDER BY id").all().map((r) => r.id);
}

/** The papers of a digest in their frozen order. */
export function digestPapers(db: Db, digestId: number): StoredPaper[] {
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
