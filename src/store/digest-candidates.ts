import type { StoredPaper } from "../model/paper.js";
import { rankOrder, type DayRank } from "../model/rank.js";
import { cachedStatement, type Db } from "./db.js";
import { fromRow, paperColumns } from "./papers.js";

export type { DayRank };

/*
 * The papers each daily digest offered (digest_candidates): every paper of its days
 * that passed the editor's rules, in rank order, with its place on its day's list.
 * The first PAPERMAIL_MAX_PAPERS are the digest's global list (digest_papers); each
 * group of readers gets the best of them that match its choices.
 */

/** A paper as a daily digest offered it. */
export interface Candidate {
  paper: StoredPaper;
  digestId: number;
  /** Its place among the digest's candidates (1 is the best). */
  position: number;
  /** Whether it is on the digest's global list. */
  listed: boolean;
  dayRank: DayRank | null;
  /** When the digest was made. */
  madeAt: string;
}

/** Records a daily digest's candidates, in order, each with its place on its day's list (in the freeze's transaction). */
export function insertCandidates(db: Db, digestId: number, papers: ReadonlyArray<{ id: number; dayRank: number | null; dayTotal: number | null }>): void {
  cachedStatement(
    db,
    `INSERT INTO digest_candidates (paper_id, digest_id, position, day_rank, day_total)
       SELECT value ->> '$.id', ?, key + 1, value ->> '$.rank', value ->> '$.total' FROM json_each(?) WHERE true`,
  ).run(digestId, JSON.stringify(papers.map((p) => ({ id: p.id, rank: p.dayRank, total: p.dayTotal }))));
}

type CandidateRow = StoredPaper & {
  links: string;
  authors: string;
  keywords: string;
  cDigest: number;
  cPosition: number;
  cListed: number;
  cRank: number | null;
  cTotal: number | null;
  cMadeAt: string;
};

const CANDIDATE_COLUMNS = `${paperColumns("p")}, c.digest_id AS cDigest, c.position AS cPosition,
  EXISTS (SELECT 1 FROM digest_papers dp WHERE dp.paper_id = c.paper_id AND dp.digest_id = c.digest_id) AS cListed,
  c.day_rank AS cRank, c.day_total AS cTotal, (SELECT created_at FROM digests d WHERE d.id = c.digest_id) AS cMadeAt`;

function toCandidate(r: CandidateRow): Candidate {
  const { cDigest, cPosition, cListed, cRank, cTotal, cMadeAt, ...row } = r;
  const paper = fromRow(row);
  const dayRank = cRank !== null && cTotal !== null ? { rank: cRank, of: cTotal, day: paper.listDay } : null;
  return { paper, digestId: cDigest, position: cPosition, listed: cListed === 1, dayRank, madeAt: cMadeAt };
}

/** The candidates of the daily digests after `after` up to `through`, digest by digest, each in its frozen order. */
export function candidatesBetween(db: Db, after: number, through: number): Candidate[] {
  return cachedStatement<[number, number], CandidateRow>(
    db,
    `SELECT ${CANDIDATE_COLUMNS} FROM digest_candidates c JOIN papers p ON p.id = c.paper_id
     WHERE c.digest_id > ? AND c.digest_id <= ? ORDER BY c.digest_id, c.position`,
  )
    .all(after, through)
    .map(toCandidate);
}

/** How many papers a group may take from each daily digest after `after` up to `through`. */
export function digestLimits(db: Db, after: number, through: number): Map<number, number> {
  const rows = cachedStatement<[number, number], { id: number; n: number }>(
    db,
    "SELECT id, coalesce(max_papers, paper_count) AS n FROM digests WHERE edition = 'daily' AND id > ? AND id <= ?",
  ).all(after, through);
  return new Map(rows.map((r) => [r.id, r.n]));
}

/** The candidates of the newest `digests` daily digests, newest digest first: a filtered feed's papers. */
export function recentCandidates(db: Db, digests: number): Candidate[] {
  return cachedStatement<[number], CandidateRow>(
    db,
    `SELECT ${CANDIDATE_COLUMNS} FROM digest_candidates c JOIN papers p ON p.id = c.paper_id
     WHERE c.digest_id IN (SELECT id FROM digests WHERE edition = 'daily' ORDER BY id DESC LIMIT ?)
     ORDER BY c.digest_id DESC, c.position`,
  )
    .all(digests)
    .map(toCandidate);
}

/** The places on their days' lists of the papers given, when known. */
export function dayRanks(db: Db, paperIds: readonly number[]): Map<number, DayRank> {
  const rows = cachedStatement<[string], { id: number; rank: number; of: number; day: string }>(
    db,
    `SELECT c.paper_id AS id, c.day_rank AS rank, c.day_total AS "of", p.list_day AS day FROM json_each(?) j
       JOIN digest_candidates c ON c.paper_id = j.value JOIN papers p ON p.id = c.paper_id WHERE c.day_rank IS NOT NULL`,
  ).all(JSON.stringify(paperIds));
  return new Map(rows.map((r) => [r.id, { rank: r.rank, of: r.of, day: r.day }]));
}

/**
 * Each paper's place on Hugging Face's list of its day, as the one order ranks the
 * day's papers now (all of them: sent, waiting or not), for the list days in a span.
 */
export function placesOnDays(db: Db, days: { from: string; through: string }, includeDemo: boolean): Map<number, { rank: number; of: number }> {
  const rows = cachedStatement<[string, string, number], { id: number; rank: number; total: number }>(
    db,
    `SELECT id, row_number() OVER (PARTITION BY list_day ORDER BY ${rankOrder()}) AS rank, count(*) OVER (PARTITION BY list_day) AS total
       FROM papers WHERE list_day >= ? AND list_day <= ? AND (demo = 0 OR ?) AND withdrawn_at IS NULL`,
  ).all(days.from, days.through, includeDemo ? 1 : 0);
  return new Map(rows.map((r) => [r.id, { rank: r.rank, of: r.total }]));
}

/** The daily digest that offered a paper, and the groups of its readers it went to (their choices, as stored). */
export function paperOffer(db: Db, paperId: number): { digestId: number; listed: boolean; groups: string[] } | undefined {
  const row = cachedStatement<[number], { digestId: number; listed: number }>(
    db,
    `SELECT digest_id AS digestId, EXISTS (SELECT 1 FROM digest_papers dp WHERE dp.paper_id = c.paper_id) AS listed FROM digest_candidates c WHERE paper_id = ?`,
  ).get(paperId);
  if (!row) return undefined;
  const groups = cachedStatement<[number, number], { choices: string }>(
    db,
    `SELECT DISTINCT g.choices FROM digest_groups g, json_each(g.paper_ids) j WHERE g.digest_id = ? AND j.value = ? AND g.recipients > 0 LIMIT 20`,
  )
    .all(row.digestId, paperId)
    .map((r) => r.choices);
  return { digestId: row.digestId, listed: row.listed === 1, groups };
}
