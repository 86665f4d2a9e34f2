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
 * Writes a ledger row for every active reader of a cadence, in one statement: queued
 * in their set's group, or skipped with the reason. The sets go through a temporary
 * table, so no reader is loaded into memory.
 */
export function insertReaderRows(db: Db, digestId: number, cadence: Edition, assignments: readonly SetAssignment[], at: string): number {
  db.exec(
    `CREATE TEMP TABLE IF NOT EXISTS edition_plan (
       covered_through INTEGER, topics TEXT, min_upvotes INTEGER, format TEXT, also_trending INTEGER, group_no INTEGER, status TEXT, reason TEXT,
       PRIMARY KEY (covered_through, topics, min_upvotes, format, also_trending))`,
  );
  db.exec("DELETE FROM temp.edition_plan");
  const plan = db.prepare("INSERT INTO temp.edition_plan VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const a of assignments) {
    plan.run(a.set.coveredThrough, a.set.topics, a.set.minUpvotes, a.set.format, a.set.alsoTrending, a.groupNo, a.skipReason ? "skipped" : "queued", a.skipReason ?? null);
  }
  const rows = db
    .prepare(
      `INSERT INTO deliveries (digest_id, subscriber_id, status, group_no, last_error, updated_at)
       SELECT ?, s.id, p.status, p.group_no, p.reason, ? FROM subscribers s
       JOIN temp.edition_plan p ON p.covered_through = s.covered_through AND p.topics = s.topics AND p.min_upvotes = s.min_upvotes AND p.format = s.format
         AND p.also_trending = s.also_trending
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

/** One group of a digest; group 0 (rows frozen before groups existed) is the whole digest. */
export function findGroup(db: Db, digestId: number, groupNo: number): DigestGroup | undefined {
  const row = cachedStatement<[number, number], Omit<DigestGroup, "paperIds" | "alsoIds"> & { paperIds: string; alsoIds: string }>(
    db,
    `SELECT group_no AS groupNo, choices, covers_after AS coversAfter, covers_through AS coversThrough, paper_ids AS paperIds, also_ids AS alsoIds, recipients
     FROM digest_groups WHERE digest_id = ? AND group_no = ?`,
  ).get(digestId, groupNo);
  return row && { ...row, paperIds: JSON.parse(row.paperIds) as number[], alsoIds: JSON.parse(row.alsoIds) as number[] };
}
