import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import type { Db } from "./db.js";
import { readSetting, writeSetting } from "./settings.js";

/**
 * The search index's own database file, beside the main one (papermail.db ->
 * papermail.search.db): its writer never waits for the main database's write lock,
 * nor holds it, so a large dump is indexed while it is stored. It holds no text
 * (contentless FTS5): rows are paper ids, text is read from the papers table.
 * (detail=column would index a quarter faster, but bm25 then sees no word counts and
 * ranks nothing.)
 */

/** The index's columns, in order: what a search looks in. */
export const SEARCH_COLUMNS = ["title", "abstract", "authors", "org_name", "org_handle", "keywords", "ai_summary"] as const;

/** One paper's text as the index takes it (the papers table's own columns). */
export type SearchText = [title: string, abstract: string | null, authors: string | null, orgName: string | null, orgHandle: string | null, keywords: string | null, aiSummary: string | null];

/** The search database beside a main database file (":memory:" stays in memory). */
export function searchDbPath(dbPath: string): string {
  if (dbPath === ":memory:" || dbPath === "") return ":memory:";
  return /\.db$/i.test(dbPath) ? dbPath.replace(/\.db$/i, ".search.db") : `${dbPath}.search.db`;
}

/** Opens (creating) a search database: WAL, the index, and its state (what it holds, for which main database). */
export function openSearchDb(path: string): Db {
  const db = new Database(path, { timeout: 15_000 });
  db.pragma("page_size = 16384");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("cache_size = -16384");
  db.exec(`
    CREATE VIRTUAL TABLE IF NOT EXISTS papers_search USING fts5(
      ${SEARCH_COLUMNS.join(", ")},
      content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE IF NOT EXISTS search_state (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  `);
  return db;
}

const connections = new WeakMap<Db, Db>();

/** The search database of a main database's connection, opened once per connection. */
export function searchDbOf(db: Db): Db {
  let search = connections.get(db);
  if (!search || !search.open) connections.set(db, (search = openSearchDb(searchDbPath(db.name))));
  return search;
}

/** Closes the search database opened for this connection, if any (before the main one closes). */
export function closeSearchDbOf(db: Db): void {
  connections.get(db)?.close();
  connections.delete(db);
}

/** The main database's setting that says which papers the index holds: every id up to it. */
export const INDEXED_THROUGH = "search_indexed_through";

/** The ids the index holds (every one up to it), as the index itself records it, and for which main database. */
export function readSearchState(search: Db): { through: number; owner: string | undefined } {
  const get = (name: string) => (search.prepare("SELECT value FROM search_state WHERE name = ?").get(name) as { value: string } | undefined)?.value;
  return { through: Number(get("indexed_through") ?? 0), owner: get("owner") };
}

/** Records in the index (inside its write) which ids it holds and for which main database. */
export function writeSearchState(search: Db, through: number, owner: string): void {
  const put = search.prepare("INSERT INTO search_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  put.run("indexed_through", String(through));
  put.run("owner", owner);
}

/** The main database's identity for its search index: a copy of another database (a restored backup) gets a fresh index. */
export function searchOwner(db: Db): string {
  const known = readSetting(db, "search_owner");
  if (known) return known;
  db.prepare("INSERT OR IGNORE INTO settings (name, value) VALUES ('search_owner', ?)").run(randomBytes(12).toString("hex"));
  return readSetting(db, "search_owner")!;
}

/** Sets the main database's record of what the index holds (the triggers read it). */
export function setIndexedThrough(db: Db, through: number): void {
  writeSetting(db, INDEXED_THROUGH, String(through));
}
