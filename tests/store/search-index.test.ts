import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSyntheticDump } from "../../scripts/bench-ingest.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { openDatabase } from "../../src/store/db.js";
import { purgePapers } from "../../src/store/papers.js";
import { closeSearchDbOf, searchDbPath } from "../../src/store/search-db.js";
import { catchUpSearchIndex, searchIndexCurrent } from "../../src/store/search-index.js";
import { searchPapers } from "../../src/store/search.js";
import { tempDir } from "../helpers/files.js";

const clock = { now: () => new Date("2024-12-20T12:00:00Z") };
const found = (db: ReturnType<typeof openDatabase>, q: string) => searchPapers(db, q, { limit: 5, offset: 0 }).total;

/** A database with a dump of `bytes` ingested through the worker threads (the path large dumps take). */
async function ingested(bytes: number) {
  const dir = tempDir();
  const file = join(dir, "synthetic-2024-12-20.txt");
  writeFileSync(file, buildSyntheticDump(bytes).text);
  const db = openDatabase(join(dir, "papermail.db"));
  const r = await ingestFile({ db, clock }, file, { parallelAboveBytes: 1 });
  return { db, dir, r };
}

describe("the search index, in a database of its own", () => {
  it("is built beside the store of a large dump: searchable as soon as the ingest is done, nothing left to catch up", async () => {
    const { db, r } = await ingested(2e6);
    expect(r.status).toBe("ingested");
    expect(searchIndexCurrent(db)).toBe(true);
    expect(catchUpSearchIndex(db)).toBe(0);
    expect(found(db, "synthetic study 7")).toBeGreaterThan(0);
    db.close();
  });

  it("forgets purged papers", async () => {
    const { db } = await ingested(1e6);
    const before = found(db, "retrieval");
    expect(before).toBeGreaterThan(0);
    purgePapers(db, { unsent: true }, false);
    expect(catchUpSearchIndex(db)).toBeGreaterThan(0);
    expect(found(db, "retrieval")).toBe(0);
    db.close();
  });

  it("starts again when it is lost or belongs to another database (a restored backup)", async () => {
    const { db } = await ingested(1e6);
    const papers = (db.prepare("SELECT count(*) AS n FROM papers").get() as { n: number }).n;
    closeSearchDbOf(db);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${searchDbPath(db.name)}${suffix}`, { force: true });
    expect(searchIndexCurrent(db)).toBe(false);
    expect(catchUpSearchIndex(db)).toBe(papers);
    expect(found(db, "synthetic")).toBeGreaterThan(0);
    // The two records disagree (a crash between the index's commit and the main one's): the ids in doubt are indexed again.
    db.prepare("UPDATE settings SET value = '10' WHERE name = 'search_indexed_through'").run();
    expect(catchUpSearchIndex(db)).toBe(papers - 10);
    expect(searchIndexCurrent(db)).toBe(true);
    db.close();
  });
});
