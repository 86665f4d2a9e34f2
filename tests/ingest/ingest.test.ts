import Database from "better-sqlite3";
import { copyFileSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { openDatabase } from "../../src/store/db.js";
import { systemClock } from "../../src/util/time.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";

const capturedAt = new Date("2024-12-20T12:00:00Z");
const HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n";
const ABSTRACT = "We study a thing at length. ".repeat(10).trim();

function freshDb() {
  const db = openDatabase(join(tempDir(), "var", "papermail.db"));
  return { db, clock: systemClock };
}

function snapshot(db: Database.Database) {
  return JSON.stringify(db.prepare("SELECT key, title, abstract, upvotes, published_on, first_seen_at FROM papers ORDER BY key").all());
}

describe("ingesting dumps into SQLite", () => {
  it("holds 168 distinct papers after the four samples: 4, then 33, 50 and 81 new", async () => {
    const deps = freshDb();
    const results = [];
    for (const f of SAMPLE_FILES) results.push(await ingestFile(deps, f, { capturedAt }));
    expect(results.map((r) => [r.status, r.papers, r.new])).toEqual([
      ["ingested", 4, 4],
      ["ingested", 37, 33],
      ["ingested", 57, 50],
      ["ingested", 96, 81],
    ]);
    expect(deps.db.prepare("SELECT count(*) AS n FROM papers").get()).toEqual({ n: 168 });
  });

  it("changes nothing when any sample is ingested again", async () => {
    const deps = freshDb();
    for (const f of SAMPLE_FILES) await ingestFile(deps, f, { capturedAt });
    const before = snapshot(deps.db);
    for (const f of SAMPLE_FILES) expect((await ingestFile(deps, f, { capturedAt })).status).toBe("unchanged");
    // The same content under another name is recognised by its hash.
    const copy = join(tempDir(), "copy.txt");
    copyFileSync(SAMPLE_FILES[2]!, copy);
    expect(await ingestFile(deps, copy, { capturedAt })).toMatchObject({ status: "unchanged", papers: 57 });
    expect(snapshot(deps.db)).toBe(before);
  });

  it("updates upvotes from a newer capture, never from an older one, and keeps first-seen", async () => {
    const deps = freshDb();
    const dir = tempDir();
    const write = (name: string, votes: number) => {
      const file = join(dir, name);
      writeFileSync(file, `${HEADER}Go Wider Instead of Deeper\n\n${ABSTRACT}\n\n  • 4 authors\n·\nDec 1 ${votes}\n`);
      return file;
    };
    expect(await ingestFile(deps, write("a.txt", 3), { capturedAt })).toMatchObject({ new: 1, updated: 0 });
    const first = deps.db.prepare("SELECT first_seen_at FROM papers").get();
    expect(await ingestFile(deps, write("b.txt", 10), { capturedAt: new Date("2024-12-21T00:00:00Z") })).toMatchObject({ new: 0, updated: 1 });
    expect(await ingestFile(deps, write("c.txt", 1), { capturedAt: new Date("2024-12-19T00:00:00Z") })).toMatchObject({ new: 0, updated: 0 });
    expect(deps.db.prepare("SELECT upvotes FROM papers").get()).toEqual({ upvotes: 10 });
    expect(deps.db.prepare("SELECT first_seen_at FROM papers").get()).toEqual(first);
    expect(deps.db.prepare("SELECT count(*) AS n FROM papers").get()).toEqual({ n: 1 });
  });

  it("rejects files that are not dumps and leaves the papers as they were", async () => {
    const deps = freshDb();
    await ingestFile(deps, SAMPLE_FILES[0]!, { capturedAt });
    const before = snapshot(deps.db);
    const dir = tempDir();
    const bad: Record<string, string | Buffer> = {
      "empty.txt": "",
      "binary.bin": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]),
      "error.html": "<!DOCTYPE html>\n<html><head><title>502</title></head><body>Bad gateway</body></html>\n",
      "latin1.txt": Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      "notes.txt": "just some notes\n\nnothing else\n",
    };
    for (const [name, content] of Object.entries(bad)) {
      writeFileSync(join(dir, name), content);
      const r = await ingestFile(deps, join(dir, name), { capturedAt });
      expect(r.status, name).toBe("rejected");
      expect(r.error, name).toBeTruthy();
    }
    expect(snapshot(deps.db)).toBe(before);
  });

  it("takes the capture date from the file name when it has one", async () => {
    const deps = freshDb();
    const file = join(tempDir(), "papers-2023-12-20.txt");
    writeFileSync(file, `${HEADER}T\n\n${ABSTRACT}\n`);
    utimesSync(file, new Date("2026-01-01"), new Date("2026-01-01"));
    expect((await ingestFile(deps, file)).pageDate).toBe("2023-12-12");
  });
});

describe("large dumps, parsed and stored by two worker threads", () => {
  const parallel = { capturedAt, parallelAboveBytes: 0 };

  it("store exactly what the single-threaded path stores", async () => {
    const deps = freshDb();
    const serial = freshDb();
    for (const f of SAMPLE_FILES) {
      const a = await ingestFile(deps, f, parallel);
      const b = await ingestFile(serial, f, { capturedAt });
      expect({ ...a, problems: a.problems.length }).toEqual({ ...b, problems: b.problems.length });
    }
    const content = (db: Database.Database) =>
      db.prepare("SELECT key, slug, title, abstract, upvotes, published_on, authors_count, org_name, code_url, links FROM papers ORDER BY key").all();
    expect(content(deps.db)).toEqual(content(serial.db));
    expect(deps.db.prepare("SELECT papers, new_papers, updated_papers FROM dumps ORDER BY id").all()).toEqual(
      serial.db.prepare("SELECT papers, new_papers, updated_papers FROM dumps ORDER BY id").all(),
    );
  });

  it("count a paper repeated within one dump once, the later block's upvotes winning", async () => {
    const deps = freshDb();
    const file = join(tempDir(), "repeat.txt");
    writeFileSync(file, `${HEADER}Same Paper\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 1 3\n\nSAME  paper\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 1 9\n`);
    expect(await ingestFile(deps, file, parallel)).toMatchObject({ status: "ingested", papers: 1, new: 1, updated: 0 });
    expect(deps.db.prepare("SELECT upvotes FROM papers").all()).toEqual([{ upvotes: 9 }]);
  });

  it("reject a file that is not a dump and leave the database as it was", async () => {
    const deps = freshDb();
    await ingestFile(deps, SAMPLE_FILES[0]!, { capturedAt });
    const before = snapshot(deps.db);
    const file = join(tempDir(), "notes.txt");
    writeFileSync(file, `${HEADER}${"one\ntwo\n\n".repeat(50)}`);
    const r = await ingestFile(deps, file, parallel);
    expect(r.status).toBe("rejected");
    expect(r.error).toMatch(/no readable paper blocks/);
    expect(snapshot(deps.db)).toBe(before);
  });
});

describe("papermail ingest", () => {
  it("ingests the dump folder and reports each file; a second run finds everything unchanged", async () => {
    const cwd = tempDir();
    const env = { PAPERMAIL_DUMPS_DIR: join(cwd, "in") };
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(cwd, "in"));
    for (const f of SAMPLE_FILES) copyFileSync(f, join(cwd, "in", f.split("/").pop()!));
    const first = await runCli(["ingest", "--json"], { cwd, env });
    expect(first.code).toBe(0);
    const json = JSON.parse(first.stdout);
    expect(json.files.map((f: { status: string; papers: number; new: number }) => [f.status, f.papers, f.new])).toEqual([
      ["ingested", 4, 4],
      ["ingested", 37, 33],
      ["ingested", 57, 50],
      ["ingested", 96, 81],
    ]);
    expect(json.totals).toMatchObject({ stored: 168, unsent: 168, rejected: 0 });
    const second = await runCli(["ingest"], { cwd, env });
    expect(second.code).toBe(0);
    expect(second.stdout.match(/^unchanged/gm)).toHaveLength(4);
    const status = JSON.parse((await runCli(["status", "--json"], { cwd, env })).stdout);
    expect(status).toMatchObject({ papers: { total: 168, unsent: 168 }, dumps: { ingested: 4, rejected: 0 } });
    expect(status.database).toBe(join(cwd, "var", "papermail.db"));
  });

  it("exits 1 when a file is rejected, names it and why, and still lands the good ones", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "broken.html"), "<html><body>Too Many Requests</body></html>");
    const r = await runCli(["ingest", SAMPLE_FILES[0]!, "broken.html"], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/rejected\s+broken\.html: an HTML page/);
    const papers = JSON.parse((await runCli(["papers", "--json"], { cwd })).stdout);
    expect(papers).toHaveLength(4);
    expect(readFileSync(join(cwd, "var", "papermail.db")).length).toBeGreaterThan(0);
  });

  it("lists papers most upvoted first, optionally only unsent ones, with a limit", async () => {
    const cwd = tempDir();
    await runCli(["ingest", ...SAMPLE_FILES], { cwd });
    const top = JSON.parse((await runCli(["papers", "--unsent", "--limit", "3", "--json"], { cwd })).stdout);
    expect(top).toHaveLength(3);
    expect(top[0].upvotes).toBeGreaterThanOrEqual(top[1].upvotes);
    expect(top[0].url).toMatch(/^https:\/\/huggingface\.co\/papers\?q=/);
  });

  it("exits 2 with one line naming a bad variable or flag", async () => {
    const cwd = tempDir();
    const badEnv = await runCli(["status"], { cwd, env: { PAPERMAIL_PUBLIC_URL: "javascript:alert(1)" } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr.trim().split("\n")).toHaveLength(1);
    expect(badEnv.stderr).toContain("PAPERMAIL_PUBLIC_URL");
    writeFileSync(join(cwd, ".env"), "PAPERMAIL_MAX_PAPERS=lots\n");
    const badDotEnv = await runCli(["status"], { cwd });
    expect(badDotEnv.code).toBe(2);
    expect(badDotEnv.stderr).toContain("PAPERMAIL_MAX_PAPERS: must be a whole number");
    const badFlag = await runCli(["papers", "--limit", "0"], { cwd, env: { PAPERMAIL_MAX_PAPERS: "5" } });
    expect(badFlag.code).toBe(2);
    expect((await runCli(["nonsense"], { cwd, env: { PAPERMAIL_MAX_PAPERS: "5" } })).code).toBe(2);
  });

  it("explains every command and variable in --help", async () => {
    const cwd = tempDir();
    const r = await runCli(["--help"], { cwd });
    expect(r.code).toBe(0);
    for (const word of ["ingest", "status", "papers", "PAPERMAIL_DB", "PAPERMAIL_DUMPS_DIR", "Exit codes"]) expect(r.stdout).toContain(word);
    const sub = await runCli(["ingest", "--help"], { cwd });
    expect(sub.stdout).toContain("--captured-at");
  });
});
