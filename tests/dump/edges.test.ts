import Database from "better-sqlite3";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { storedPaper } from "../helpers/papers.js";
import { describe, expect, it } from "vitest";
import { parseDump } from "../../src/dump/parse.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { renderFeed } from "../../src/render/feed.js";
import { openDatabase } from "../../src/store/db.js";
import { listPapers } from "../../src/store/papers.js";
import { systemClock } from "../../src/util/time.js";
import { ROOT, tempDir } from "../helpers/files.js";

const capturedAt = new Date("2024-12-20T12:00:00Z");
const HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n";
const ABSTRACT = "We study a thing at length. ".repeat(10).trim();
const OTHER = "Quantum chromodynamics lattice simulations reveal gluon plasma viscosity bounds. ".repeat(4).trim();

const parse = (text: string, at = capturedAt) => parseDump(text, { capturedAt: at });

describe("a paper is split by structure", () => {
  it("keeps an abstract with a blank line in it as one abstract, its trailer included", () => {
    const text = `${HEADER}Split Abstract\n\n${ABSTRACT}\n\n${ABSTRACT}\n\n  • 8 authors\n·\nDec 1 4\n\nNext Paper\n\n${ABSTRACT}\n`;
    const { papers, problems } = parse(text);
    expect(papers.map((p) => p.title)).toEqual(["Split Abstract", "Next Paper"]);
    expect(papers[0]).toMatchObject({ abstract: `${ABSTRACT}\n\n${ABSTRACT}`, authorsCount: 8, upvotes: 4 });
    expect(problems).toEqual([]);
  });

  it("does not turn the paragraph after a short first abstract paragraph into a paper", () => {
    const text = `${HEADER}Short Start\n\nWe present Foo, a small model.\n\n${ABSTRACT}\n\n  • 3 authors\n·\nDec 2\n`;
    const { papers } = parse(text);
    expect(papers).toHaveLength(1);
    expect(papers[0]).toMatchObject({ title: "Short Start", authorsCount: 3, publishedOn: "2024-12-02" });
    expect(papers[0]!.abstract).toBe(`We present Foo, a small model.\n\n${ABSTRACT}`);
  });

  it("reads a trailer line that stands alone as a trailer, never as a paper", () => {
    const text = `${HEADER}Lonely Authors\n\n${ABSTRACT}\n\n  • 8 authors\n\nSplit Trailer\n\n${ABSTRACT}\n\n  • 5 authors\n\n·\n\nDec 3 7\n\nLast\n\n${ABSTRACT}\n`;
    const { papers, problems } = parse(text);
    expect(papers.map((p) => p.title)).toEqual(["Lonely Authors", "Split Trailer", "Last"]);
    expect(papers[0]).toMatchObject({ authorsCount: 8, publishedOn: null });
    expect(papers[1]).toMatchObject({ authorsCount: 5, publishedOn: "2024-12-03", upvotes: 7 });
    expect(problems).toEqual([]);
  });

  it("reports a trailer with no paper before it and invents nothing", () => {
    const { papers, problems } = parse(`${HEADER}  • 4 authors\n·\nDec 1\n\nReal One\n\n${ABSTRACT}\n`);
    expect(papers.map((p) => p.title)).toEqual(["Real One"]);
    expect(problems[0]!.message).toMatch(/trailer with no title/);
  });
});

describe("dates", () => {
  it("gives the page date the year closest to the capture time", () => {
    const dec13 = HEADER.replace("Dec 12", "Dec 13");
    expect(parse(`${dec13}T\n\n${ABSTRACT}\n`, new Date("2024-12-12T23:00:00Z")).pageDate).toBe("2024-12-13");
    const jan1 = HEADER.replace("Dec 12", "Jan 1");
    expect(parse(`${jan1}T\n\n${ABSTRACT}\n`, new Date("2024-12-31T20:00:00Z")).pageDate).toBe("2025-01-01");
  });

  it("drops a trailer date after the page date, and keeps the paper", () => {
    const { papers, problems } = parse(`${HEADER}Time Traveller\n\n${ABSTRACT}\n\n  • 2 authors\n·\nMar 3, 2030 6\n`);
    expect(papers[0]).toMatchObject({ title: "Time Traveller", publishedOn: null, upvotes: 6, authorsCount: 2 });
    expect(problems[0]!.message).toMatch(/after the page date/);
  });
});

describe("text from a dump", () => {
  it("cleans LaTeX leftovers out of links", () => {
    const p = parse(`${HEADER}Braces\n\n${ABSTRACT} Code: https://github.com/a/b{https://github.com/a/b}. Page \\url{https://x.org/p}\n`).papers[0]!;
    expect(p.links).toEqual(["https://github.com/a/b", "https://x.org/p"]);
    expect(p.codeUrl).toBe("https://github.com/a/b");
  });

  it("never lets control or private-use characters through, and the feed stays well-formed", () => {
    const hostile = "Bad\u0001Title\u001b[31m \uE000recipient\uE000 \u0085\uFFFF\uDB80\uDC00";
    const { papers } = parse(`${HEADER}${hostile}\n\n${ABSTRACT} \uE000unsubscribe\uE000 https://github.com/a/b\u0007c\n`);
    const p = papers[0]!;
    for (const s of [p.title, p.abstract!, ...p.links]) expect(s).not.toMatch(/[\u0000-\u001f\u007f-\u009f\uE000-\uF8FF\uFFFF]|\uDB80/);
    expect(p.title).toBe("BadTitle[31m recipient");
    const xml = renderFeed({ siteUrl: "http://x/", feedUrl: "http://x/feed.xml", updated: new Date(0), title: "papermail: trending papers", paperUrl: (slug) => `http://x/papers/${slug}` }, [
      { ...storedPaper({ ...p, id: 1, upvotes: 1 }), digestCreatedAt: "2024-12-12T00:00:00Z" },
      // Whatever an older database holds, too.
      { ...storedPaper({ ...p, id: 2, title: hostile, abstract: hostile, upvotes: 1 }), digestCreatedAt: "2024-12-12T00:00:00Z" },
    ]);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toMatch(/[\u0001\u001b\uE000\uFFFF]/);
  });
});

describe("paper identity in the store", () => {
  function freshDb() {
    return { db: openDatabase(join(tempDir(), "papermail.db")), clock: systemClock };
  }
  async function ingestText(deps: ReturnType<typeof freshDb>, text: string, name: string) {
    const file = join(tempDir(), name);
    writeFileSync(file, text);
    return ingestFile(deps, file, { capturedAt });
  }

  it("stores titles that differ only in symbols as different papers", async () => {
    const deps = freshDb();
    await ingestText(deps, `${HEADER}Q-Learning\n\n${ABSTRACT}\n\nQ*-Learning\n\n${OTHER}\n\nF\n\n${ABSTRACT}\n\nF#\n\n${OTHER}\n`, "a.txt");
    expect(listPapers(deps.db).map((p) => p.title).sort()).toEqual(["F", "F#", "Q*-Learning", "Q-Learning"]);
  });

  it("keeps both papers when a key matches but the abstract clearly differs, and re-ingesting adds nothing", async () => {
    const deps = freshDb();
    await ingestText(deps, `${HEADER}Attention Is All You Need\n\n${ABSTRACT} https://github.com/a/one\n\n  • 8 authors\n·\nDec 1 5\n`, "a.txt");
    const second = `${HEADER}attention is all you need\n\n${OTHER} https://github.com/b/two\n\n  • 2 authors\n·\nDec 2 9\n`;
    expect(await ingestText(deps, second, "b.txt")).toMatchObject({ new: 1 });
    expect(await ingestText(deps, `${second}\n`, "c.txt")).toMatchObject({ new: 0 });
    const rows = listPapers(deps.db);
    expect(rows).toHaveLength(2);
    const first = rows.find((p) => p.codeUrl === "https://github.com/a/one")!;
    expect(first).toMatchObject({ abstract: `${ABSTRACT} https://github.com/a/one`, authorsCount: 8, upvotes: 5 });
    expect(new Set(rows.map((r) => r.slug)).size).toBe(2);
  });

  it("stores the same result for a file whether one thread or two workers ingest it", async () => {
    const text = `${HEADER}Twice\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 1 3\n\nOther\n\n${OTHER}\n\nTWICE\n\n  • 4 authors\n·\nDec 2 9\n`;
    const rows = [];
    for (const parallelAboveBytes of [Infinity, 1]) {
      const deps = freshDb();
      const file = join(tempDir(), "x.txt");
      writeFileSync(file, text);
      const r = await ingestFile(deps, file, { capturedAt, parallelAboveBytes });
      expect(r).toMatchObject({ status: "ingested", papers: 2, new: 2 });
      rows.push(deps.db.prepare("SELECT key, title, abstract, authors_count, published_on, upvotes, links FROM papers ORDER BY key").all());
    }
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[0]![1]).toMatchObject({ abstract: ABSTRACT, authors_count: 4, upvotes: 9 });
  });

  it("keeps finding papers stored under the keys of an older version", async () => {
    const dir = tempDir();
    const path = join(dir, "papermail.db");
    // The database as the previous version left it: its three migrations, a punctuation-collapsed key.
    const old = new Database(path);
    for (const f of ["001_papers.sql", "002_digests.sql", "003_delivery_queue_index.sql"]) old.exec(readFileSync(join(ROOT, "db", f), "utf8"));
    old.pragma("user_version = 3");
    old.prepare("INSERT INTO dumps (sha256, path, size, mtime_ms, status, ingested_at) VALUES ('x', 'x', 0, 0, 'ingested', '')").run();
    old.prepare(
      `INSERT INTO papers (key, slug, title, abstract, upvotes, captured_at, first_seen_at, last_seen_at, first_dump_id)
       VALUES ('speecht5 unified modal encoder', 'aaaaaaaaaaaaaaaa', 'SpeechT5: Unified-Modal Encoder', ?, 2, '2024-12-01', '2024-12-01', '2024-12-01', 1)`,
    ).run(ABSTRACT);
    old.close();
    const deps = { db: openDatabase(path), clock: systemClock };
    const file = join(dir, "a.txt");
    writeFileSync(file, `${HEADER}SpeechT5: Unified-Modal Encoder\n\n${ABSTRACT}\n\n  • 3 authors\n·\nDec 1 8\n`);
    expect(await ingestFile(deps, file, { capturedAt })).toMatchObject({ new: 0, updated: 1 });
    expect(listPapers(deps.db).map((p) => [p.slug, p.upvotes])).toEqual([["aaaaaaaaaaaaaaaa", 8]]);
  });
});
