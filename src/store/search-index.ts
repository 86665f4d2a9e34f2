import { cachedStatement, type Db } from "./db.js";

/** The setting that says which papers are in the search index: every id up to it. */
const INDEXED_THROUGH = "search_indexed_through";

/** Papers indexed per transaction: short enough that a send or a page never waits long for the write lock. */
const BATCH = 2000;

/** The first paper the index does not hold yet, if any: one index probe. */
function searchBacklogStarts(db: Db): number | undefined {
  return cachedStatement<[], { id: number }>(
    db,
    `SELECT id FROM papers WHERE id > (SELECT CAST(value AS INTEGER) FROM settings WHERE name = '${INDEXED_THROUGH}') ORDER BY id LIMIT 1`,
  ).get()?.id;
}

/**
 * Adds the papers stored since the last catch-up to the search index, in batches of
 * their own transactions, at most `max` of them; returns how many were added. Run
 * after each ingest: one bulk insert costs a third of indexing row by row.
 */
export function catchUpSearchIndex(db: Db, max = Infinity): number {
  const batch = db.transaction((limit: number) => {
    const through = cachedStatement<[], { n: number }>(db, `SELECT CAST(value AS INTEGER) AS n FROM settings WHERE name = '${INDEXED_THROUGH}'`).get()!.n;
    const last = cachedStatement<[number, number], { id: number | null; n: number }>(
      db,
      "SELECT max(id) AS id, count(*) AS n FROM (SELECT id FROM papers WHERE id > ? ORDER BY id LIMIT ?)",
    ).get(through, limit)!;
    if (last.id === null) return 0;
    cachedStatement(
      db,
      `INSERT INTO papers_search (rowid, title, abstract, authors, org_name, org_handle, keywords, ai_summary)
         SELECT id, title, abstract, authors, org_name, org_handle, keywords, ai_summary FROM papers WHERE id > ? AND id <= ?`,
    ).run(through, last.id);
    cachedStatement(db, `UPDATE settings SET value = ? WHERE name = '${INDEXED_THROUGH}'`).run(String(last.id));
    return last.n;
  });
  // A read first: with nothing to index (every search asks), no write lock is taken.
  if (searchBacklogStarts(db) === undefined) return 0;
  let added = 0;
  while (added < max) {
    const n = batch.immediate(Math.min(BATCH, max - added));
    if (n === 0) break;
    added += n;
  }
  return added;
}
