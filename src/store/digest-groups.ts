import type { Cadence, Format } from "../model/choices.js";
import { cachedStatement, type Db } from "./db.js";
import type { Edition } from "./digests.js";

/*
 * An edition's readers, as sets that share their choices and cursor, the groups that
 * share one rendering (digest_groups), and the ledger rows that put each reader in a
 * group (deliveries, as first written).
 */

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
  alsoTrending: number;
  readers: number;
}

/** The active readers of a cadence, counted per combination of choices and cursor (never loaded one by one). */
export function readerSets(db: Db, cadence: Edition): ReaderSet[] {
  return cachedStatement<[string], ReaderSet>(
    db,
    `SELECT covered_through AS coveredThrough, cadence, topics, min_upvotes AS minUpvotes, format, also_trending AS alsoTrending, count(*) AS readers
     FROM subscribers WHERE status = 'active' AND cadence = ?
     GROUP BY covered_through, topics, min_upvotes, format, also_trending ORDER BY min(id)`,
  ).all(cadence);
}

/** How many active readers a cadence has. */
export function countReaders(db: Db, cadence: Edition): number {
  return db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM subscribers WHERE status = 'active' AND cadence = ?").get(cadence)!.n;
}

/** A group of an edition's readers who share one rendering. */
export interface DigestGroup {
  groupNo: number;
  /** The choices that made the group (JSON: topics, minUpvotes, format, cadence, alsoTrending). */
  choices: string;
  coversAfter: number;
  coversThrough: number;
  paperIds: number[];
  /** The day's top papers outside their topics, shown under their own ("Also trending"). */
  alsoIds: number[];
  recipients: number;
}

/** Stores a group of a digest. */
export function insertGroup(db: Db, digestId: number, group: DigestGroup): void {
  db.prepare(
    "INSERT INTO digest_groups (digest_id, group_no, choices, covers_after, covers_through, paper_ids, also_ids, recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(digestId, group.groupNo, group.choices, group.coversAfter, group.coversThrough, JSON.stringify(group.paperIds), JSON.stringify(group.alsoIds), group.recipients);
}

/** Where each set of readers goes: its group, and why it is skipped when the edition holds nothing for it. */
export interface SetAssignment {
  set: ReaderSet;
  groupNo: number;
  skipReason?: string;
}

/**
 * Writes a ledger row for every active reader of a cadence: queued in their set's
 * group, or skipped with the reason. Rows are written group by group, each set's
 * readers found through an index (subscribers_by_choices), so no reader is loaded into
 * memory and nothing is sorted. A sender claims rows in that order, and a group's rows
 * then share their pages: one page written per commit, not one per reader scattered
 * over the table.
 */
export function insertReaderRows(db: Db, digestId: number, cadence: Edition, assignments: readonly SetAssignment[], at: string): number {
  const insert = cachedStatement(
    db,
    `INSERT INTO deliveries (digest_id, subscriber_id, status, group_no, last_error, updated_at)
     SELECT :digestId, id, :status, :groupNo, :reason, :at FROM subscribers INDEXED BY subscribers_by_choices
     WHERE status = 'active' AND cadence = :cadence AND topics = :topics AND min_upvotes = :minUpvotes AND format = :format
       AND also_trending = :alsoTrending AND covered_through = :coveredThrough
     ORDER BY id`,
  );
  let rows = 0;
  for (const a of [...assignments].sort((x, y) => x.groupNo - y.groupNo)) {
    rows += insert.run({
      digestId,
      status: a.skipReason ? "skipped" : "queued",
      groupNo: a.groupNo,
      reason: a.skipReason ?? null,
      at,
      cadence,
      topics: a.set.topics,
      minUpvotes: a.set.minUpvotes,
      format: a.set.format,
      alsoTrending: a.set.alsoTrending,
      coveredThrough: a.set.coveredThrough,
    }).changes;
  }
  return rows;
}

/** Records that the readers of a cadence have now been offered every daily digest up to `through`. */
export function advanceReaders(db: Db, cadence: Edition, through: number): void {
  cachedStatement(db, "UPDATE subscribers SET covered_through = ? WHERE status = 'active' AND cadence = ? AND covered_through < ?").run(through, cadence, through);
}

/** One group of a digest; group 0 (rows frozen before groups existed) is the whole digest. */
export function findGroup(db: Db, digestId: number, groupNo: number): DigestGroup | undefined {
  const row = cachedStatement<[number, number], Omit<DigestGroup, "paperIds" | "alsoIds"> & { paperIds: string; alsoIds: string }>(
    db,
    `SELECT group_no AS groupNo, choices, covers_after AS coversAfter, covers_through AS coversThrough, paper_ids AS paperIds, also_ids AS alsoIds, recipients
     FROM digest_groups WHERE digest_id = ? AND group_no = ?`,
  ).get(digestId, groupNo);
  return row && { ...row, paperIds: JSON.parse(row.paperIds) as number[], alsoIds: JSON.parse(row.alsoIds) as number[] };
}
