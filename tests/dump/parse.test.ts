import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDump } from "../../src/dump/parse.js";
import { paperKey, paperSlug } from "../../src/model/paper.js";
import { isPapermailError } from "../../src/errors.js";
import { ROOT, SAMPLE_FILES } from "../helpers/files.js";

const capturedAt = new Date("2024-12-20T12:00:00Z");
const HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n";
const ABSTRACT = "We study a thing at length. ".repeat(10).trim();

function parse(text: string, at = capturedAt) {
  return parseDump(text, { capturedAt: at });
}

function rejection(text: string): string {
  try {
    parse(text);
  } catch (err) {
    if (isPapermailError(err, "DUMP_REJECTED")) return err.message;
    throw err;
  }
  throw new Error("was not rejected");
}

/** Compares with tests/fixtures/parse/NAME.json; UPDATE_GOLDEN=1 rewrites it. */
function expectGolden(name: string, value: unknown) {
  const file = join(ROOT, "tests", "fixtures", "parse", `${name}.json`);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, "utf8"));
}

describe("parsing the sample dumps", () => {
  it("finds 4, 37, 57 and 96 papers in the four samples", () => {
    const counts = SAMPLE_FILES.map((f) => parse(readFileSync(f, "utf8")).papers.length);
    expect(counts).toEqual([4, 37, 57, 96]);
  });

  it("reads every field of 000 and 003 as the golden files show", () => {
    expectGolden("000", parse(readFileSync(SAMPLE_FILES[0]!, "utf8")));
    expectGolden("003", parse(readFileSync(SAMPLE_FILES[3]!, "utf8")));
  });

  it("reads author counts, organisations, dates with and without a year, and upvotes", () => {
    const { pageDate, papers } = parse(readFileSync(SAMPLE_FILES[1]!, "utf8"));
    expect(pageDate).toBe("2024-12-12");
    const sailer = papers.find((p) => p.title.startsWith("SAILER"))!;
    expect(sailer).toMatchObject({ authorsCount: 8, publishedOn: "2023-04-22", upvotes: 0, orgHandle: null });
    const encoder = papers.find((p) => p.title.startsWith("Return of the Encoder"))!;
    expect(encoder).toMatchObject({ authorsCount: 3, publishedOn: "2024-01-27", upvotes: 2 });
    const kyutai = papers.find((p) => p.orgHandle === "kyutai")!;
    expect(kyutai).toMatchObject({ orgName: "Kyutai", authorsCount: null, publishedOn: "2024-10-23", upvotes: 1 });
  });

  it("gives papers without a trailer unknown authors and date", () => {
    const { papers } = parse(readFileSync(SAMPLE_FILES[3]!, "utf8"));
    for (const p of papers) expect(p).toMatchObject({ authorsCount: null, orgHandle: null, publishedOn: null, upvotes: null });
    expect(papers.every((p) => p.abstract && p.abstract.length > 100)).toBe(true);
  });

  it("never stores a publication date after the page date", () => {
    for (const f of SAMPLE_FILES) {
      const { pageDate, papers } = parse(readFileSync(f, "utf8"));
      for (const p of papers) if (p.publishedOn) expect(p.publishedOn <= pageDate).toBe(true);
    }
  });
});

describe("dates", () => {
  it("takes the page year from the capture time", () => {
    expect(parse(`${HEADER}T\n\n${ABSTRACT}\n`, new Date("2025-01-03T00:00:00Z")).pageDate).toBe("2024-12-12");
    expect(parse(`${HEADER}T\n\n${ABSTRACT}\n`, new Date("2025-12-12T08:00:00Z")).pageDate).toBe("2025-12-12");
  });

  it("resolves a date without a year to the latest such day on or before the page date", () => {
    const text = `${HEADER}A\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 13 5\n\nB\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 12\n`;
    const [a, b] = parse(text).papers;
    expect(a!.publishedOn).toBe("2023-12-13");
    expect(a!.upvotes).toBe(5);
    expect(b!.publishedOn).toBe("2024-12-12");
  });

  it("finds the last leap year for Feb 29", () => {
    const text = `${HEADER}A\n\n${ABSTRACT}\n\n  • 1 authors\n·\nFeb 29 3\n`;
    expect(parse(text, new Date("2027-12-20T00:00:00Z")).papers[0]!.publishedOn).toBe("2024-02-29");
  });
});

describe("what real captures contain", () => {
  it("reads CRLF line endings, trailing and non-breaking spaces, and a missing final newline", () => {
    const text = `${HEADER}Title One \u00a0\n\n${ABSTRACT}\u00a0 \n\n  • 8 authors  \n·\nApr 22, 2023 4`.replace(/\n/g, "\r\n");
    const { papers } = parse(text);
    expect(papers).toHaveLength(1);
    expect(papers[0]).toMatchObject({ title: "Title One", abstract: ABSTRACT, authorsCount: 8, publishedOn: "2023-04-22", upvotes: 4 });
  });

  it("keeps a paper whose abstract is missing", () => {
    const text = `${HEADER}No Abstract Here\n\n  • 3 authors\n·\nJan 2\n\nShort Title Next\n\n${ABSTRACT}\n\nThird Without Abstract\n\nFourth Title\n\n${ABSTRACT}\n`;
    const { papers } = parse(text);
    expect(papers.map((p) => [p.title, p.abstract !== null])).toEqual([
      ["No Abstract Here", false],
      ["Short Title Next", true],
      ["Third Without Abstract", false],
      ["Fourth Title", true],
    ]);
    expect(papers[0]!.authorsCount).toBe(3);
  });

  it("stores markup-like and non-ASCII titles verbatim", () => {
    const title = `<script>alert(1)</script> & "q" — Über 模型`;
    const { papers } = parse(`${HEADER}${title}\n\n${ABSTRACT} <b>bold</b>\n`);
    expect(papers[0]!.title).toBe(title);
    expect(papers[0]!.abstract).toBe(`${ABSTRACT} <b>bold</b>`);
  });

  it("merges a paper the page shows twice, the later block's values winning", () => {
    const text = `${HEADER}Same Paper\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 1 3\n\nSAME  paper\n\n${ABSTRACT}\n\n  • 2 authors\n·\nDec 1 9\n`;
    const { papers } = parse(text);
    expect(papers).toHaveLength(1);
    expect(papers[0]!.upvotes).toBe(9);
  });

  it("reports an unreadable date with its line number and keeps the paper without it", () => {
    const text = `${HEADER}Good One\n\n${ABSTRACT}\n\nBad Date\n\n${ABSTRACT}\n\n  • 2 authors\n·\nSmarch 40\n\nGood Two\n\n${ABSTRACT}\n`;
    const { papers, problems } = parse(text);
    expect(papers.map((p) => p.title)).toEqual(["Good One", "Bad Date", "Good Two"]);
    expect(papers[1]).toMatchObject({ authorsCount: 2, publishedOn: null });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(23);
    expect(problems[0]!.message).toContain("Smarch 40");
  });

  it("extracts code links, trims punctuation, and marks GitHub as the code link", () => {
    const abs = `${ABSTRACT} Site: https://example.org/x. Code at https://github.com/org/repo). Also (see https://en.wikipedia.org/wiki/A_(b)).`;
    const p = parse(`${HEADER}Linked\n\n${abs}\n`).papers[0]!;
    expect(p.links).toEqual(["https://example.org/x", "https://github.com/org/repo", "https://en.wikipedia.org/wiki/A_(b)"]);
    expect(p.codeUrl).toBe("https://github.com/org/repo");
  });
});

describe("files that are not dumps", () => {
  it("rejects an empty file", () => expect(rejection("")).toMatch(/empty/));
  it("rejects an HTML error page", () => expect(rejection("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>")).toMatch(/HTML/));
  it("rejects text without the page header", () => expect(rejection("hello\n\nworld\n")).toMatch(/header/));
  it("rejects a header with no paper blocks", () => expect(rejection(HEADER)).toMatch(/no paper blocks/));
});

describe("paper identity", () => {
  it("gives the same key to the same title in other case, spacing, width and dash or quote style", () => {
    expect(paperKey("Go Wider Instead of Deeper")).toBe(paperKey("go  wider\u00a0instead of DEEPER "));
    expect(paperKey("SpeechT5: Unified\u2010Modal \u201cX\u201d")).toBe(paperKey('SpeechT5: Unified-Modal "X"'));
    expect(paperKey("ＡＢＣ\u00a0x")).toBe("abc x");
  });

  it("tells apart titles that differ only in symbols", () => {
    expect(paperKey("Q-Learning")).not.toBe(paperKey("Q*-Learning"));
    expect(paperKey("F")).not.toBe(paperKey("F#"));
    expect(paperKey("C++ Agents")).not.toBe(paperKey("C Agents"));
  });

  it("derives a short stable id from the key", () => {
    expect(paperSlug(paperKey("Go Wider Instead of Deeper"))).toMatch(/^[0-9a-f]{16}$/);
    expect(paperSlug("a")).toBe(paperSlug("a"));
  });
});
