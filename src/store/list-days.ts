import { cachedStatement, type Db } from "./db.js";
import { fromRow, paperColumns, type StoredPaper } from "./papers.js";
import { readSetting, writeSetting } from "./settings.js";

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
 * Papers waiting for a digest whose list day is in [from, through], in digest order:
 * a known count before an unknown one, most upvoted first, then the newer day, the
 * newer publication, the later arrival.
 */
export function waitingPapers(db: Db, from: string, through: string, scope: DayScope): RankedPaper[] {
  return cachedStatement<[string, string, number], RankedPaper>(
    db,
    `SELECT id, upvotes, upvotes_at AS upvotesAt FROM papers INDEXED BY papers_waiting
       WHERE fate IS NULL AND list_day >= ? AND list_day <= ? AND (demo = 0 OR ?)
       ORDER BY upvotes_at IS NULL, upvotes DESC, list_day DESC, published_on DESC NULLS LAST, id DESC`,
  ).all(from, through, scope.includeDemo ? 1 : 0);
}

/** How many waiting papers were listed before `day`: those a digest now would let expire. */
export function countWaitingBefore(db: Db, day: string, scope: DayScope): number {
  return cachedStatement<[string, number], { n: number }>(
    db,
    "SELECT count(*) AS n FROM papers INDEXED BY papers_waiting WHERE fate IS NULL AND list_day < ? AND (demo = 0 OR ?)",
  ).get(day, scope.includeDemo ? 1 : 0)!.n;
}

/** Marks the papers a daily digest carries as sent (inside the freeze's transaction). */
export function markSent(db: Db, paperIds: readonly number[], digestId: number, at: string): void {
  const mark = cachedStatement(db, "UPDATE papers SET fate = 'sent', fate_digest_id = ?, fate_at = ?, fate_note = NULL WHERE id = ?");
  for (const id of paperIds) mark.run(digestId, at, id);
}

/** Retires papers, each with why: they wait no more and no later digest carries them. */
export function retirePapers(db: Db, fate: Retirement, papers: ReadonlyArray<{ id: number; note: string }>, digestId: number | null, at: string): void {
  const retire = cachedStatement(db, "UPDATE papers SET fate = ?, fate_note = ?, fate_digest_id = ?, fate_at = ? WHERE id = ? AND fate IS NULL");
  for (const p of papers) retire.run(fate, p.note, digestId, at, p.id);
}

/** Expires every waiting paper listed before `day`, in one statement; returns how many. */
export function expireBefore(db: Db, day: string, note: string, digestId: number | null, at: string, scope: DayScope): number {
  return cachedStatement(
    db,
    `UPDATE papers INDEXED BY papers_waiting SET fate = 'expired', fate_note = ?, fate_digest_id = ?, fate_at = ?
       WHERE fate IS NULL AND list_day < ? AND (demo = 0 OR ?)`,
  ).run(note, digestId, at, day, scope.includeDemo ? 1 : 0).changes;
}

/** A paper no digest will carry, and why. */
export interface RetiredPaper extends StoredPaper {
  fate: Retirement;
  note: string;
  digestId: number | null;
  at: string;
}

/** Papers passed over or expired, most recently retired first. */
export function listRetiredPapers(db: Db, limit: number): RetiredPaper[] {
  return db
    .prepare<[number], RetiredPaper & { links: string; authors: string; keywords: string }>(
      `SELECT ${paperColumns()}, fate, fate_note AS note, fate_digest_id AS digestId, fate_at AS at FROM papers
       WHERE fate IN ('passed-over', 'expired') ORDER BY fate_at DESC, list_day DESC, upvotes_at IS NULL, upvotes DESC, id DESC LIMIT ?`,
    )
    .all(limit)
    .map((r) => ({ ...fromRow(r), fate: r.fate, note: r.note, digestId: r.digestId, at: r.at }));
}

/** How many papers were passed over and how many expired. */
export function countRetired(db: Db): { passedOver: number; expired: number } {
  return db
    .prepare<[], { passedOver: number; expired: number }>(
      "SELECT count(*) FILTER (WHERE fate = 'passed-over') AS passedOver, count(*) FILTER (WHERE fate = 'expired') AS expired FROM papers WHERE fate IN ('passed-over', 'expired')",
    )
    .get()!;
}
