import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Db } from "./db.js";

/** What papermail remembers of a dump file it has read. */
export interface DumpRecord {
  id: number;
  sha256: string;
  path: string;
  status: "ingested" | "rejected";
  papers: number;
  error: string | null;
  /** Read as a bundled sample by an unconfigured installation. */
  demo: number;
}

export interface DumpFacts {
  sha256: string;
  path: string;
  size: number;
  mtimeMs: number;
  pageDate: string | null;
  capturedAt: string;
  papers: number;
  newPapers: number;
  updatedPapers: number;
  problems: number;
  error: string | null;
  ingestedAt: string;
  /** A bundled sample read by an unconfigured installation. */
  demo?: boolean;
}

const COLUMNS = "id, sha256, path, status, papers, error, demo";

/** An ingested dump at this path with this size and mtime: unchanged without reading it. */
export function findIngestedByStat(db: Db, path: string, size: number, mtimeMs: number): DumpRecord | undefined {
  return db
    .prepare<[string, number, number], DumpRecord>(`SELECT ${COLUMNS} FROM dumps WHERE path = ? AND size = ? AND mtime_ms = ? AND status = 'ingested'`)
    .get(path, size, Math.trunc(mtimeMs));
}

/** The dump with this content hash, if any. */
export function findDumpByHash(db: Db, sha256: string): DumpRecord | undefined {
  return db.prepare<[string], DumpRecord>(`SELECT ${COLUMNS} FROM dumps WHERE sha256 = ?`).get(sha256);
}

/** Notes where the same content now lives, so the next look needs no read. */
export function moveDump(db: Db, id: number, path: string, size: number, mtimeMs: number): void {
  db.prepare("UPDATE dumps SET path = ?, size = ?, mtime_ms = ? WHERE id = ?").run(path, size, Math.trunc(mtimeMs), id);
}

/** Records a dump that landed, or one that was rejected (replacing an earlier rejection of the same content). */
export function recordDump(db: Db, status: "ingested" | "rejected", f: DumpFacts): number {
  const row = db
    .prepare<unknown[], { id: number }>(
      `INSERT INTO dumps (sha256, path, size, mtime_ms, status, page_date, captured_at, papers, new_papers, updated_papers, problems, error, ingested_at, demo)
       VALUES (@sha256, @path, @size, @mtimeMs, @status, @pageDate, @capturedAt, @papers, @newPapers, @updatedPapers, @problems, @error, @ingestedAt, @demo)
       ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, size = excluded.size, mtime_ms = excluded.mtime_ms, status = excluded.status,
         page_date = excluded.page_date, captured_at = excluded.captured_at, papers = excluded.papers, new_papers = excluded.new_papers,
         updated_papers = excluded.updated_papers, problems = excluded.problems, error = excluded.error, ingested_at = excluded.ingested_at, demo = excluded.demo
       RETURNING id`,
    )
    .get({ ...f, mtimeMs: Math.trunc(f.mtimeMs), status, demo: f.demo ? 1 : 0 })!;
  return row.id;
}

/** Sets the counts of a dump once its papers are stored. */
export function setDumpCounts(db: Db, id: number, counts: { papers: number; problems: number; newPapers: number; updatedPapers: number }): void {
  db.prepare("UPDATE dumps SET papers = ?, problems = ?, new_papers = ?, updated_papers = ? WHERE id = ?").run(
    counts.papers,
    counts.problems,
    counts.newPapers,
    counts.updatedPapers,
    id,
  );
}

/** How many dumps landed and how many were rejected. */
export function countDumps(db: Db): { ingested: number; rejected: number } {
  return db
    .prepare<[], { ingested: number; rejected: number }>(
      "SELECT count(*) FILTER (WHERE status = 'ingested') AS ingested, count(*) FILTER (WHERE status = 'rejected') AS rejected FROM dumps",
    )
    .get()!;
}



/** The ingested dump a file names: by its path, else by its content. */
export function findDumpForFile(db: Db, file: string): DumpRecord | undefined {
  const path = resolve(file);
  const byPath = db.prepare<[string], DumpRecord>(`SELECT ${COLUMNS} FROM dumps WHERE path = ? ORDER BY id DESC`).get(path);
  if (byPath) return byPath;
  try {
    return findDumpByHash(db, createHash("sha256").update(readFileSync(path)).digest("hex"));
  } catch {
    return undefined;
  }
}

/** The newest ingested dumps (newest first) with how many papers each gave: what the shrinking-input check compares. */
export function recentIngestedDumps(db: Db, limit: number): Array<{ id: number; path: string; papers: number; ingestedAt: string }> {
  return db
    .prepare<[number], { id: number; path: string; papers: number; ingestedAt: string }>(
      "SELECT id, path, papers, ingested_at AS ingestedAt FROM dumps WHERE status = 'ingested' ORDER BY id DESC LIMIT ?",
    )
    .all(limit);
}
