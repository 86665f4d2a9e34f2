import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SAMPLE_FILES } from "../helpers/files.js";
import { ABSTRACT, project, smtp } from "../helpers/project.js";
import { daysAgo, shortDay, writeDay, type DayEntry } from "../helpers/daily-papers.js";

const day = daysAgo;
const short = shortDay;
type Entry = DayEntry;

/** `count` papers of list day `n` days ago, with varied upvotes. */
function papersOf(n: number, count: number, upvotes = (j: number) => (n * 7 + j * 13) % 50): Entry[] {
  return Array.from({ length: count }, (_, j) => ({ id: `2511.${String(n).padStart(2, "0")}${String(j).padStart(3, "0")}`, title: `Study ${n}-${j} of things`, upvotes: upvotes(j) }));
}

async function dailyProject(extra: Record<string, string> = {}) {
  const server = await smtp();
  const p = project(server.url);
  const dumps = join(p.cwd, "dumps");
  Object.assign(p.env, { PAPERMAIL_DUMPS_DIR: dumps, ...extra });
  await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
  const titles = async (i: number) => [...(await server.parse(server.received[i]!)).text!.matchAll(/^\d+\. (.+)$/gm)].map((m) => m[1]!);
  return { ...p, server, dumps, titles };
}

describe("a digest is the news of the list days completed since the last one", () => {
  it("after a backfill of three weeks sends only the newest three days, lets the rest expire, and sends nothing more without a new day", async () => {
    const p = await dailyProject();
    // A week-old paper with far more upvotes than any recent one is old news all the same.
    for (let n = 1; n <= 21; n++) writeDay(p.dumps, day(n), papersOf(n, 8, n === 7 ? (j) => 500 + j : undefined));
    expect((await p.cli(["ingest"])).code).toBe(0);

    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.listDays).toMatchObject({ newest: day(1), coveredThrough: null, nextDigestCovers: { from: day(3), through: day(1) }, nextDigestPapers: 24, expiringAtNextDigest: 144 });

    const first = await p.cli(["send-digest", "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).digests[0].papers).toBe(24);
    const mail = await p.server.parse(p.server.received[0]!);
    expect(mail.subject).toMatch(new RegExp(`^Trending on Hugging Face · ${short(day(3))}.*${Number(day(1).slice(8))}: Study`));
    const sent = await p.titles(0);
    expect(sent).toHaveLength(24);
    expect(sent.every((t) => /^Study [123]-/.test(t))).toBe(true);

    const retired = JSON.parse((await p.cli(["papers", "--passed-over", "--json"])).stdout) as Array<{ title: string; fate: string; note: string; listDay: string }>;
    expect(retired).toHaveLength(144);
    expect(retired.every((r) => r.fate === "expired" && r.listDay < day(3))).toBe(true);
    expect(retired[0]!.note).toMatch(/listed before the 3 newest list days .* when digest #1 was made \(PAPERMAIL_CATCH_UP_DAYS\)/);

    const second = await p.cli(["send-digest"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`No new digest: nothing new since the digest of ${short(day(1))}.`);
    expect(p.server.received).toHaveLength(1);

    // Expired is final: reaching back further later, or a late capture of an expired day, sends none of it.
    writeDay(p.dumps, day(9), [...papersOf(9, 8), { id: "2511.99001", title: "A late find of an expired day", upvotes: 900 }], `${day(0).replace(/-/g, "")}T010000Z`);
    writeDay(p.dumps, day(0), papersOf(0, 2));
    await p.cli(["ingest"]);
    p.env.PAPERMAIL_CATCH_UP_DAYS = "30";
    p.env.PAPERMAIL_INCLUDE_TODAY = "true";
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).listDays).toMatchObject({ expired: 145, expiringAtNextDigest: 0 });
    await p.cli(["send-digest"]);
    expect(await p.titles(1)).toEqual(["Study 0-1 of things", "Study 0-0 of things"]);
  });

  it("sends a new day with the late arrivals of covered days, most upvoted first; the tail over the cap never comes back; a day in progress waits unless allowed", async () => {
    const p = await dailyProject({ PAPERMAIL_MAX_PAPERS: "5" });
    writeDay(p.dumps, day(2), papersOf(2, 6));
    writeDay(p.dumps, day(1), papersOf(1, 6));
    await p.cli(["ingest"]);
    await p.cli(["send-digest"]);
    const first = await p.titles(0);
    expect(first).toHaveLength(5);
    const tail = (JSON.parse((await p.cli(["papers", "--passed-over", "--json"])).stdout) as Array<{ title: string; note: string }>);
    expect(tail).toHaveLength(7);
    expect(tail[0]!.note).toMatch(/^ranked \d+ of 12 for .* with \d+ upvotes?, over PAPERMAIL_MAX_PAPERS=5; no reader.s topics matched it$/);

    // Today is listed, and a later capture of yesterday brings one more paper.
    writeDay(p.dumps, day(0), papersOf(0, 6, (j) => 10 + j));
    writeDay(p.dumps, day(1), [...papersOf(1, 6), { id: "2511.99999", title: "A late arrival", upvotes: 100 }], `${day(0).replace(/-/g, "")}T090000Z`);
    await p.cli(["ingest"]);
    const waiting = await p.cli(["send-digest"]);
    expect(waiting.stdout).toContain(`${short(day(0))} is still in progress`);
    expect(p.server.received).toHaveLength(1);

    p.env.PAPERMAIL_INCLUDE_TODAY = "true";
    await p.cli(["send-digest"]);
    expect(p.server.received).toHaveLength(2);
    const second = await p.titles(1);
    expect(second).toEqual(["A late arrival", "Study 0-5 of things", "Study 0-4 of things", "Study 0-3 of things", "Study 0-2 of things"]);
    expect((await p.server.parse(p.server.received[1]!)).subject).toMatch(new RegExp(`^Trending on Hugging Face · ${short(day(0))}: A late arrival and 4 more$`));
    for (const t of tail) expect(second).not.toContain(t.title);
    expect(second.some((t) => first.includes(t))).toBe(false);
  });

  it("passes over papers below PAPERMAIL_MIN_UPVOTES and sends no digest when none is left", async () => {
    const p = await dailyProject({ PAPERMAIL_MIN_UPVOTES: "10" });
    writeDay(p.dumps, day(1), papersOf(1, 3, (j) => j * 3));
    await p.cli(["ingest"]);
    const run = await p.cli(["send-digest"]);
    expect(run.stdout).toContain(`No new digest: no paper of ${short(day(1))} has PAPERMAIL_MIN_UPVOTES=10 upvotes (3 below it are passed over).`);
    expect(p.server.received).toHaveLength(0);
    const notes = (JSON.parse((await p.cli(["papers", "--passed-over", "--json"])).stdout) as Array<{ note: string }>).map((r) => r.note);
    expect(notes.sort()).toEqual(["0 upvotes, below PAPERMAIL_MIN_UPVOTES=10", "3 upvotes, below PAPERMAIL_MIN_UPVOTES=10", "6 upvotes, below PAPERMAIL_MIN_UPVOTES=10"]);
  });
});

describe("upvotes are the newest capture's, whatever order the files arrive in", () => {
  /** Page text of one list day showing one paper without a trailer: its count is unknown. */
  function pageText(dir: string, listDay: string, title: string, trailer = ""): string {
    const header = `new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\n${short(listDay)}\n\n`;
    const file = join(dir, `page-${title.length}-${trailer.length}.txt`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${header}${title}\n\n${ABSTRACT} ${title}.\n${trailer}`);
    return file;
  }

  it("gives the same counts for page text and JSON in either order, and a file name's date never lowers a count", async () => {
    const counts: number[][] = [];
    for (const order of ["text-first", "json-first"]) {
      const p = project();
      const dir = join(p.cwd, "in");
      const listDay = day(2);
      const text = pageText(dir, listDay, "Alpha study of things");
      const json = writeDay(dir, listDay, [{ id: "2511.00001", title: "Alpha study of things", upvotes: 31 }], `${day(1).replace(/-/g, "")}T080000Z`);
      // Two captures whose names carry the same date and no time: they cannot be ordered, and the higher count stands.
      const low = join(dir, `${day(1)}-capture-a.json`);
      const high = join(dir, `${day(1)}-capture-b.json`);
      const entry = (upvotes: number) => JSON.stringify([{ paper: { id: "2511.00002", title: "Beta study of things", summary: `${ABSTRACT} Beta.`, upvotes }, submittedOnDailyAt: `${listDay}T10:00:00Z` }]);
      writeFileSync(low, entry(10));
      writeFileSync(high, entry(31));
      const files = order === "text-first" ? [[text, `${listDay}T20:00:00Z`], [json], [low], [high]] : [[high], [json], [low], [text, `${listDay}T20:00:00Z`]];
      for (const [file, at] of files) expect((await p.cli(["ingest", file!, ...(at ? ["--captured-at", at] : [])])).code).toBe(0);
      const papers = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ title: string; upvotes: number; upvotesAt: string | null; listDay: string }>;
      expect(papers.map((x) => x.listDay)).toEqual([listDay, listDay]);
      expect(papers.every((x) => x.upvotesAt !== null)).toBe(true);
      counts.push(papers.map((x) => x.upvotes).sort());
    }
    expect(counts).toEqual([
      [31, 31],
      [31, 31],
    ]);
  });

  it("ranks a paper whose count no capture showed below every counted one", async () => {
    const p = await dailyProject();
    const listDay = day(1);
    pageText(p.dumps, listDay, "Unknown count paper");
    writeDay(p.dumps, listDay, [{ id: "2511.00003", title: "Counted paper", upvotes: 0 }]);
    await p.cli(["ingest"]);
    await p.cli(["send-digest"]);
    expect(await p.titles(0)).toEqual(["Counted paper", "Unknown count paper"]);
  });
});

describe("the demo", () => {
  it("sends the best of the bundled samples first, then says there is nothing new", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest"]);
    const first = JSON.parse((await p.cli(["send-digest", "--json"])).stdout);
    expect(first.digests[0].papers).toBe(30);
    const papers = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ upvotes: number; upvotesAt: string | null }>;
    const counted = papers.filter((x) => x.upvotesAt !== null).map((x) => x.upvotes).sort((a, b) => b - a);
    // The digest holds the 30 best counted papers of all four captures.
    const db = p.db();
    const sent = db.prepare("SELECT p.upvotes FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id ORDER BY dp.position").all() as Array<{ upvotes: number }>;
    db.close();
    expect(sent.map((s) => s.upvotes)).toEqual(counted.slice(0, 30));
    const second = await p.cli(["send-digest"]);
    expect(second.stdout).toMatch(/No new digest: nothing new since the digest of [A-Z][a-z]{2} \d+\./);
    expect(SAMPLE_FILES).toHaveLength(4);
  });
});
