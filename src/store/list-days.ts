import { cachedStatement, type Db } from "./db.js";
import { fromRow, paperColumns } from "./papers.js";
import { type StoredPaper } from "../model/paper.js";
import { readSetting, writeSetting } from "./settings.js";
import { rankOrder } from "../model/rank.js";

/** A span of list days (ISO dates), as a digest covers them. */
export interface ListDays {
  from: string;
  through: string;
}

/** What became of a paper that no digest will carry. */
export type Retirement = "passed-over" | "expired";

/** The setting that holds the newest list day a daily digest has covered. */
const COVERED_THROUGH = "daily_covered_through";

/** Which papers a question is about: demo papers (bundled samples) only while papermail runs as a demo. */
export interface DayScope {
  includeDemo: boolean;
}

/** The newest list day of any stored paper, or undefined when none is stored. */
export function newestListDay(db: Db, scope: DayScope, before?: string): string | undefined {
  return (
    cachedStatement<[string | null, string | null, number], { day: string | null }>(
      db,
      "SELECT max(list_day) AS day FROM papers WHERE (? IS NULL OR list_day < ?) AND (demo = 0 OR ?)",
    ).get(before ?? null, before ?? null, scope.includeDemo ? 1 : 0)!.day ?? undefined
  );
}

/** The newest `count` distinct list days on or before `through`, newest first. */
export function listDaysThrough(db: Db, through: string, count: number, scope: DayScope): string[] {
  return cachedStatement<[string, number, number], { day: string }>(
    db,
    "SELECT DISTINCT list_day AS day FROM papers WHERE list_day <= ? AND (demo = 0 OR ?) ORDER BY list_day DESC LIMIT ?",
  )
    .all(through, scope.includeDemo ? 1 : 0, count)
    .map((r) => r.day);
}

/** The newest list day a daily digest covered, or undefined before the first. */
export function coveredThrough(db: Db): string | undefined {
  return readSetting(db, COVERED_THROUGH);
}

/** Records that daily digests have covered the list days through `day` (it only moves forward). */
export function setCoveredThrough(db: Db, day: string): void {
  const current = coveredThrough(db);
  if (current === undefined || day > current) writeSetting(db, COVERED_THROUGH, day);
}

/** A waiting paper as a digest ranks it: no text, so ranking a busy day reads little. */
export interface RankedPaper {
  id: number;
  upvotes: number;
  /** Null when no capture showed a count. */
  upvotesAt: string | null;
}

/**
 * Papers waiting for a digest whose list day is in [from, through], in the one order
 * (model/rank), withdrawn ones left out.
 */
export function waitingPapers(db: Db, from: string, through: string, scope: DayScope): RankedPaper[] {
  return cachedStatement<[string, string, number], RankedPaper>(
    db,
    `SELECT id, upvotes, upvotes_at AS upvotesAt FROM waiting_papers
       WHERE list_day >= ? AND list_day <= ? AND (demo = 0 OR ?) AND withdrawn_at IS NULL
       ORDER BY ${rankOrder("waiting_papers")}`,
  ).all(from, through, scope.includeDemo ? 1 : 0);
}

/** Waiting papers of [from, through] that Hugging Face withdrew: no digest carries them. */
export function withdrawnPapers(db: Db, from: string, through: string, scope: DayScope): number[] {
  return cachedStatement<[string, string, number], { id: number }>(
    db,
    "SELECT id FROM waiting_papers WHERE list_day >= ? AND list_day <= ? AND (demo = 0 OR ?) AND withdrawn_at IS NOT NULL",
  )
    .all(from, through, scope.includeDemo ? 1 : 0)
    .map((r) => r.id);
}

/**
 * Waiting papers listed before `@day` and on or after the newest expiry mark of their
 * scope, as an index range: a long expired backlog below the mark is never read.
 */
const waitingBefore = (mark: "real_day" | "demo_day") =>
  `FROM papers INDEXED BY papers_by_list_day
     WHERE list_day >= (SELECT ${mark} FROM expired_before) AND list_day < @day AND demo = ${mark === "demo_day" ? 1 : 0}
       AND NOT EXISTS (SELECT 1 FROM paper_fates f WHERE f.paper_id = papers.id)`;

/** How many waiting papers were listed before `day`: those a digest now would let expire. */
export function countWaitingBefore(db: Db, day: string, scope: DayScope): number {
  return cachedStatement<[{ day: string; demo: number }], { n: number }>(
    db,
    `SELECT (SELECT count(*) ${waitingBefore("real_day")}) + CASE WHEN @demo THEN (SELECT count(*) ${waitingBefore("demo_day")}) ELSE 0 END AS n`,
  ).get({ day, demo: scope.includeDemo ? 1 : 0 })!.n;
}

/** Marks the papers a daily digest carries as sent (inside the freeze's transaction). */
export function markSent(db: Db, paperIds: readonly number[], digestId: number, at: string): void {
  // One statement for the lot: a digest's papers are written in one step, not one call each.
  cachedStatement(db, "INSERT INTO paper_fates (paper_id, fate, digest_id, at) SELECT value, 'sent', ?, ? FROM json_each(?)").run(digestId, at, JSON.stringify(paperIds));
}

/** Retires papers, each with why: they wait no more and no later digest carries them. */
export function retirePapers(db: Db, fate: Retirement, papers: ReadonlyArray<{ id: number; note: string }>, digestId: number | null, at: string): void {
  cachedStatement(
    db,
    `INSERT INTO paper_fates (paper_id, fate, note, digest_id, at)
       SELECT value ->> '$.id', ?, value ->> '$.note', ?, ? FROM json_each(?) WHERE true
       ON CONFLICT (paper_id) DO NOTHING`,
  ).run(fate, digestId, at, JSON.stringify(papers.map((p) => ({ id: p.id, note: p.note }))));
}

/**
 * Expires every waiting paper listed before `day` with one mark (a backlog of any size
 * costs one row); returns whether any paper was waiting there.
 */
export function expireBefore(db: Db, day: string, note: string, digestId: number | null, at: string, scope: DayScope): boolean {
  const demo = scope.includeDemo ? 1 : 0;
  const waiting = cachedStatement<[{ day: string; demo: number }], { n: number }>(
    db,
    `SELECT EXISTS (SELECT 1 ${waitingBefore("real_day")}) OR (@demo AND EXISTS (SELECT 1 ${waitingBefore("demo_day")})) AS n`,
  ).get({ day, demo })!.n;
  if (!waiting) return false;
  cachedStatement(db, "INSERT INTO paper_expiries (before_day, include_demo, note, digest_id, at) VALUES (?, ?, ?, ?, ?)").run(day, demo, note, digestId, at);
  return true;
}

/** A paper no digest will carry, and why. */
export interface RetiredPaper extends StoredPaper {
  fate: Retirement;
  note: string;
  digestId: number | null;
  at: string;
}

/** Papers passed over or expired (one by one, or by a mark over their day), most recently retired first. */
export function listRetiredPapers(db: Db, limit: number): RetiredPaper[] {
  return db
    .prepare<[number], RetiredPaper & { links: string; authors: string; keywords: string }>(
      `SELECT * FROM (
         SELECT ${paperColumns()}, f.fate, f.note, f.digest_id AS digestId, f.at FROM paper_fates f JOIN papers ON papers.id = f.paper_id
           WHERE f.fate IN ('passed-over', 'expired')
         UNION ALL
         SELECT ${paperColumns()}, 'expired' AS fate, m.note, m.digest_id AS digestId, m.at FROM marked_expired m JOIN papers ON papers.id = m.paper_id)
       ORDER BY at DESC, listDay DESC, upvotesAt IS NULL, upvotes DESC, id DESC LIMIT ?`,
    )
    .all(limit)
    .map((r) => ({ ...fromRow(r), fate: r.fate, note: r.note, digestId: r.digestId, at: r.at }));
}

/** How many papers were passed over and how many expired. */
export function countRetired(db: Db): { passedOver: number; expired: number } {
  return db
    .prepare<[], { passedOver: number; expired: number }>(
      `SELECT
         (SELECT count(*) FROM paper_fates WHERE fate = 'passed-over') AS passedOver,
         (SELECT count(*) FROM paper_fates WHERE fate = 'expired')
           + (SELECT count(*) FROM papers INDEXED BY papers_by_list_day, expired_before
                WHERE list_day < CASE demo WHEN 0 THEN expired_before.real_day ELSE expired_before.demo_day END
                  AND NOT EXISTS (SELECT 1 FROM paper_fates f WHERE f.paper_id = papers.id)) AS expired`,
    )
    .get()!;
}

/** What became of a paper and why (the note written when it happened); undefined while it waits. */
export function paperFate(db: Db, paperId: number): { fate: "sent" | Retirement; note: string | null } | undefined {
  const row = cachedStatement<[number], { fate: "sent" | Retirement; note: string | null }>(db, "SELECT fate, note FROM paper_fates WHERE paper_id = ?").get(paperId);
  if (row) return row;
  const marked = cachedStatement<[number], { note: string | null }>(db, "SELECT note FROM marked_expired WHERE paper_id = ?").get(paperId);
  return marked ? { fate: "expired", note: marked.note } : undefined;
}
