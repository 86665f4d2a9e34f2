import type { StoredPaper } from "../model/paper.js";
import { rankOrder } from "../model/rank.js";
import { cachedStatement, type Db } from "./db.js";

/** The select list of a StoredPaper, for a query where the papers table is `alias`. */
export function paperColumns(alias = "papers"): string {
  const a = alias;
  return `${a}.id, ${a}.slug, ${a}.title, ${a}.abstract, ${a}.authors_count AS authorsCount, ${a}.org_handle AS orgHandle,
    ${a}.org_name AS orgName, ${a}.published_on AS publishedOn, ${a}.upvotes, ${a}.code_url AS codeUrl, ${a}.links,
    ${a}.first_seen_at AS firstSeenAt, ${a}.last_seen_at AS lastSeenAt, ${a}.arxiv_id AS arxivId, ${a}.authors, ${a}.github_repo AS githubRepo,
    ${a}.project_page AS projectPage, ${a}.num_comments AS numComments, ${a}.keywords, ${a}.thumbnail,
    ${a}.list_day AS listDay, ${a}.upvotes_at AS upvotesAt, ${a}.ai_summary AS summary, ${a}.github_stars AS githubStars, ${a}.withdrawn_at AS withdrawnAt`;
}

/** Papers newest list day first, most upvoted first within a day; optionally only those waiting for a digest. */
export function listPapers(db: Db, options: { unsentOnly?: boolean; limit?: number } = {}): StoredPaper[] {
  const from = options.unsentOnly ? "waiting_papers" : "papers";
  const rows = db
    .prepare<[number], StoredPaper & { links: string }>(
      `SELECT ${paperColumns()} FROM ${from} AS papers
       ORDER BY list_day DESC, ${rankOrder()} LIMIT ?`,
    )
    .all(options.limit ?? -1);
  return rows.map(fromRow);
}

/** Total stored papers and those waiting for a digest (neither sent, passed over nor expired). */
export function countPapers(db: Db): { total: number; unsent: number } {
  return db.prepare<[], { total: number; unsent: number }>("SELECT (SELECT count(*) FROM papers) AS total, (SELECT count(*) FROM waiting_papers) AS unsent").get()!;
}

/** Decodes the JSON columns of a papers row. */
export function fromRow(row: StoredPaper & { links: unknown; authors: unknown; keywords: unknown }): StoredPaper {
  const list = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as string[]) : ((v as string[] | null | undefined) ?? null));
  return { ...row, links: list(row.links) ?? [], authors: list(row.authors), keywords: list(row.keywords) };
}

/** Which unsent papers `papers purge` removes. */
export type PurgeSelection = { dumpId: number } | { before: string } | { unsent: true };

/**
 * Papers that no digest carried yet and that match the selection (first seen in a
 * dump, first seen before a date, or all unsent), removed unless `dryRun`. A paper a
 * digest carried is never removed: the archive and feed show it.
 */
export function purgePapers(db: Db, selection: PurgeSelection, dryRun: boolean): Array<{ id: number; title: string }> {
  const [where, arg] =
    "dumpId" in selection ? ["first_dump_id = ?", selection.dumpId] : "before" in selection ? ["first_seen_at < ?", selection.before] : ["1 = ?", 1];
  const rows = db
    .prepare<[unknown], { id: number; title: string }>(`SELECT id, title FROM papers WHERE ${where} AND id NOT IN (SELECT paper_id FROM digest_candidates) ORDER BY id`)
    .all(arg);
  if (!dryRun && rows.length > 0) {
    const remove = db.prepare("DELETE FROM papers WHERE id = ? AND id NOT IN (SELECT paper_id FROM digest_candidates)");
    db.transaction(() => rows.forEach((r) => remove.run(r.id)))();
  }
  return rows;
}

/** Demo papers (from the bundled samples) still waiting, for `status`. */
export function countDemoPapers(db: Db): number {
  return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM waiting_papers WHERE demo = 1").get()!.n;
}

/** A stored paper by its slug (its page's address), or by a slug it had before a re-key. */
export function findPaperBySlug(db: Db, slug: string): { paper: StoredPaper; moved: boolean } | undefined {
  const row = cachedStatement<[string], StoredPaper & { links: string; authors: string; keywords: string }>(db, `SELECT ${paperColumns()} FROM papers WHERE slug = ?`).get(slug);
  if (row) return { paper: fromRow(row), moved: false };
  const aliased = cachedStatement<[string], StoredPaper & { links: string; authors: string; keywords: string }>(
    db,
    `SELECT ${paperColumns()} FROM paper_aliases a JOIN papers ON papers.id = a.paper_id WHERE a.ident = ?`,
  ).get(slug);
  return aliased ? { paper: fromRow(aliased), moved: true } : undefined;
}
