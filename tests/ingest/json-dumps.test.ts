import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listen } from "../helpers/listen.js";
import { ROOT } from "../helpers/files.js";
import { project } from "../helpers/project.js";

const RECORDED = join(ROOT, "tests", "fixtures", "daily_papers", "2024-12-12.json");

const recorded = () => JSON.parse(readFileSync(RECORDED, "utf8")) as Array<{ paper: Record<string, unknown> & { title: string; summary: string } }>;

describe("broken daily_papers JSON never stops a folder", () => {
  it("rejects a list of strings with the reason and still ingests the files after it", async () => {
    const p = project();
    const dumps = join(p.cwd, "mine");
    mkdirSync(dumps);
    p.env.PAPERMAIL_DUMPS_DIR = dumps;
    // As a scraper that wrote `[str(paper) for paper in papers]` saves it.
    writeFileSync(join(dumps, "a_strings.json"), JSON.stringify(recorded().map((e) => `{'paper': {'title': '${e.paper.title}'}}`)));
    writeFileSync(join(dumps, "b_good.json"), readFileSync(RECORDED));
    const r = await p.cli(["ingest", "--json"]);
    expect(r.code).toBe(1);
    const files = JSON.parse(r.stdout).files as Array<{ path: string; status: string; error: string | null; new: number }>;
    expect(files.find((f) => f.path.endsWith("a_strings.json"))).toMatchObject({ status: "rejected", error: expect.stringMatching(/a list of strings rather than daily_papers entries/) });
    expect(files.find((f) => f.path.endsWith("b_good.json"))).toMatchObject({ status: "ingested", new: 5 });
    // Recorded as rejected: the next run does not read it again, nor fail on it.
    const again = JSON.parse((await p.cli(["ingest", "--json"])).stdout).files as Array<{ path: string; status: string }>;
    expect(again.every((f) => f.status !== "ingested")).toBe(true);
  });

  it("reports a non-object entry by its index and keeps the papers around it", async () => {
    const p = project();
    const file = join(p.cwd, "mixed.json");
    writeFileSync(file, JSON.stringify([1, ...recorded(), "stray"]));
    const r = await p.cli(["ingest", file, "--json"]);
    const result = JSON.parse(r.stdout).files[0];
    expect(result).toMatchObject({ status: "ingested", new: 5 });
    expect(result.problems.map((x: { message: string }) => x.message)).toEqual([
      "entry 0: a number, not a daily_papers entry (an object); skipped",
      "entry 6: a string, not a daily_papers entry (an object); skipped",
    ]);
  });

  it("takes an empty list as a day with nothing listed yet, and fetch writes nothing for it", async () => {
    const p = project();
    const dumps = join(p.cwd, "mine");
    mkdirSync(dumps);
    p.env.PAPERMAIL_DUMPS_DIR = dumps;
    writeFileSync(join(dumps, "daily_papers_2024-12-13.json"), "[]\n");
    const first = await p.cli(["ingest", "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).files[0]).toMatchObject({ status: "ingested", papers: 0 });
    expect((await p.cli(["ingest"])).code).toBe(0);

    const port = await listen(createServer((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end("[]")));
    p.env.PAPERMAIL_HF_API_URL = `http://127.0.0.1:${port}/api/daily_papers`;
    const fetched = await p.cli(["fetch", "--date", "2024-12-14"]);
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toMatch(/empty +2024-12-14: the list has no papers yet/);
    expect(readdirSync(dumps)).toEqual(["daily_papers_2024-12-13.json"]);
  });

  it("unwraps arXiv line breaks in titles and abstracts, keeping paragraphs", async () => {
    const p = project();
    const entries = recorded();
    entries[1]!.paper.title = "SAILER: Structure-aware Pre-trained Language Model for\n  Legal Case Retrieval";
    entries[1]!.paper.summary = "Legal case retrieval is a\n  specialised task.\n\nWe propose SAILER,\n  a model.";
    const file = join(p.cwd, "wrapped.json");
    writeFileSync(file, JSON.stringify(entries));
    await p.cli(["ingest", file]);
    // The same paper from the unwrapped recording is the same paper: one row, one key.
    await p.cli(["ingest", RECORDED]);
    const papers = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ title: string; abstract: string }>;
    expect(papers).toHaveLength(5);
    const sailer = papers.find((x) => x.title.startsWith("SAILER"))!;
    expect(sailer.title).toBe("SAILER: Structure-aware Pre-trained Language Model for Legal Case Retrieval");
    expect(sailer.abstract).toBe("Legal case retrieval is a specialised task.\n\nWe propose SAILER, a model.");
  });

  it("unwraps the titles stored before, keeping each paper's key and link", async () => {
    const p = project();
    await p.cli(["ingest", RECORDED]);
    const before = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ id: number; url: string; title: string }>;
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(join(p.cwd, "var", "papermail.db"));
    db.prepare("UPDATE papers SET title = replace(title, ' for ', ' for' || char(10) || '  ') WHERE title LIKE 'SAILER%'").run();
    // What migration 011 runs on a database stored before it.
    const { unwrapStoredText } = await import("../../src/store/unwrap-text.js");
    unwrapStoredText(db);
    db.close();
    const after = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ id: number; url: string; title: string }>;
    expect(after).toEqual(before);
  });
});
