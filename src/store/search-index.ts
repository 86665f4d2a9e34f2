import { cachedStatement, type Db } from "./db.js";
import { INDEXED_THROUGH, readSearchState, searchDbOf, searchOwner, setIndexedThrough, writeSearchState, type SearchText } from "./search-db.js";

/** Papers indexed per transaction of the search database. */
const BATCH = 5000;

const TEXT = "title, abstract, authors, org_name, org_handle, keywords, ai_summary";

/** Adds papers to an open write of the search database: any entry already there for their ids is replaced. */
export function indexPapers(search: Db, rows: Iterable<{ id: number; text: SearchText }>, replace: boolean): number {
  const remove = cachedStatement(search, "DELETE FROM papers_search WHERE rowid = ?");
  const insert = cachedStatement(search, `INSERT INTO papers_search (rowid, ${TEXT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  let n = 0;
  for (const r of rows) {
    if (replace) remove.run(r.id);
    insert.run(r.id, ...r.text);
    n++;
  }
  return n;
}

/** True when the index holds every stored paper as it is now: nothing to catch up. */
export function searchIndexCurrent(db: Db): boolean {
  const through = Number(cachedStatement<[], { value: string }>(db, `SELECT value FROM settings WHERE name = '${INDEXED_THROUGH}'`).get()?.value ?? 0);
  const last = cachedStatement<[], { id: number | null }>(db, "SELECT max(id) AS id FROM papers").get()!.id ?? 0;
  const queued = cachedStatement<[], { n: number }>(db, "SELECT count(*) AS n FROM (SELECT 1 FROM search_queue LIMIT 1)").get()!.n;
  if (through !== last || queued > 0) return false;
  const search = searchDbOf(db);
  const state = readSearchState(search);
  // A new index, for a database that has no papers yet: it is this database's, and current.
  if (state.owner === undefined && state.through === 0 && through === 0) {
    search.transaction(() => writeSearchState(search, 0, searchOwner(db))).immediate();
    return true;
  }
  return state.through === through && state.owner === searchOwner(db);
}

/**
 * Brings the search index up to the papers table: papers stored since, and those whose
 * text changed or that went (search_queue), at most `max` papers; returns how many. The
 * index is written by its own connection, so this never holds the main write lock for
 * longer than marking what was done. An index of another database (a restored backup),
 * or one that lost track, is started again.
 */
export function catchUpSearchIndex(db: Db, max = Infinity): number {
  const search = searchDbOf(db);
  const owner = searchOwner(db);
  const mainThrough = Number(readMainThrough(db));
  const state = readSearchState(search);
  if (state.owner !== owner || state.through !== mainThrough) {
    // Another database's index, or the two records disagree (a crash between them, a
    // restored backup): everything past the lower mark is indexed again.
    const from = state.owner === owner ? Math.min(state.through, mainThrough) : 0;
    search.transaction(() => {
      search.prepare("DELETE FROM papers_search WHERE rowid > ?").run(from);
      writeSearchState(search, from, owner);
    }).immediate();
    setIndexedThrough(db, from);
  }
  let added = drainQueue(db, search, max);
  while (added < max) {
    const through = readSearchState(search).through;
    const rows = cachedStatement<[number, number], { id: number } & Record<string, string | null>>(
      db,
      `SELECT id, ${TEXT} FROM papers WHERE id > ? ORDER BY id LIMIT ?`,
    ).all(through, Math.min(BATCH, max - added));
    if (rows.length === 0) break;
    const last = rows[rows.length - 1]!.id;
    search.transaction(() => {
      indexPapers(search, rows.map(asText), false);
      writeSearchState(search, last, owner);
    }).immediate();
    setIndexedThrough(db, last);
    added += rows.length;
  }
  return added;
}

/** Re-indexes (or removes) the papers the queue names. */
function drainQueue(db: Db, search: Db, max: number): number {
  let done = 0;
  while (done < max) {
    const ids = cachedStatement<[number], { id: number }>(db, "SELECT paper_id AS id FROM search_queue ORDER BY paper_id LIMIT ?")
      .all(Math.min(BATCH, max - done))
      .map((r) => r.id);
    if (ids.length === 0) break;
    const read = cachedStatement<[number], { id: number } & Record<string, string | null>>(db, `SELECT id, ${TEXT} FROM papers WHERE id = ?`);
    // Papers past the index's mark are the range's to add, not the queue's.
    const through = readSearchState(search).through;
    const present = ids.filter((id) => id <= through).flatMap((id) => read.all(id));
    search.transaction(() => {
      const remove = cachedStatement(search, "DELETE FROM papers_search WHERE rowid = ?");
      for (const id of ids) remove.run(id);
      indexPapers(search, present.map(asText), false);
    }).immediate();
    const forget = cachedStatement(db, "DELETE FROM search_queue WHERE paper_id = ?");
    db.transaction(() => ids.forEach((id) => forget.run(id))).immediate();
    done += ids.length;
  }
  return done;
}

function readMainThrough(db: Db): string {
  return cachedStatement<[], { value: string }>(db, `SELECT value FROM settings WHERE name = '${INDEXED_THROUGH}'`).get()?.value ?? "0";
}

function asText(r: { id: number } & Record<string, string | null>): { id: number; text: SearchText } {
  return { id: r.id, text: [r.title ?? "", r.abstract ?? null, r.authors ?? null, r.org_name ?? null, r.org_handle ?? null, r.keywords ?? null, r.ai_summary ?? null] };
}
