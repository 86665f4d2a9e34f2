import Database from "better-sqlite3";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { parseDump } from "../../src/dump/parse.js";
import { ROOT, SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { spawnCli } from "../helpers/cli.js";
import { project, smtp } from "../helpers/project.js";
import { inboxes } from "../helpers/smtp-server.js";
import type { ParsedMail } from "mailparser";

type Server = Awaited<ReturnType<typeof smtp>>;

/** Every message each reader got, parsed, in the order received. */

/** The paper titles a digest email lists, from its plain-text part ("1. Title"). */
function titlesIn(mail: ParsedMail): string[] {
  return [...(mail.text ?? "").matchAll(/^\d+\. (.+)$/gm)].map((m) => m[1]!);
}

/**
 * The bundled samples' papers spread over `count` consecutive list days ending yesterday,
 * one saved daily_papers answer per day (oldest first), so that each day brings news.
 */
function sampleDays(dir: string, count: number): string[] {
  const papers = SAMPLE_FILES.flatMap((f) => parseDump(readFileSync(f), { capturedAt: new Date() }).papers);
  const unique = [...new Map(papers.map((p) => [p.key, p])).values()];
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const day = new Date(Date.now() - (count - i) * 86400_000).toISOString().slice(0, 10);
    const entries = unique
      .filter((_, j) => j % count === i)
      .map((p) => ({ paper: { title: p.title, summary: p.abstract, upvotes: p.upvotes ?? 0 }, submittedOnDailyAt: `${day}T12:00:00Z` }));
    const file = join(dir, `daily_papers_${day}.json`);
    writeFileSync(file, JSON.stringify(entries));
    return file;
  });
}

/** "And N more: URL" at the end of a digest that the size budget trimmed. */
function moreIn(mail: ParsedMail): number {
  return Number(/^And (\d+) more: /m.exec(mail.text ?? "")?.[1] ?? 0);
}

describe("each reader's own digest", () => {
  it("sends each reader the papers matching their topics and minimum, in their format, and nothing when nothing matches", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["ingest", SAMPLE_FILES[0]!, SAMPLE_FILES[1]!]);
    await p.cli(["subscribers", "add", "all@example.org", "--confirmed"]);
    await p.cli(["subscribers", "add", "encoders@example.org", "--confirmed", "--topics", "encoder, speech"]);
    await p.cli(["subscribers", "add", "popular@example.org", "--confirmed", "--min-upvotes", "2", "--format", "compact"]);
    await p.cli(["subscribers", "add", "nothing@example.org", "--confirmed", "--topics", "protein folding"]);
    const run = JSON.parse((await p.cli(["send-digest", "--max-papers", "100", "--json"])).stdout);
    expect(run.digests[0]).toMatchObject({ recipients: 4, sent: 3, skipped: 1 });

    const box = await inboxes(server);
    expect(box.get("nothing@example.org")).toBeUndefined();
    const skipped = p.db().prepare("SELECT last_error AS why FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = ?").get("nothing@example.org");
    expect(skipped).toEqual({ why: "no paper of this edition matched their choices (papers on protein folding)" });

    const papers = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ title: string; abstract: string | null; upvotes: number }>;
    const all = titlesIn(box.get("all@example.org")![0]!);
    expect(all.length + moreIn(box.get("all@example.org")![0]!)).toBe(papers.length);
    const encoders = titlesIn(box.get("encoders@example.org")![0]!);
    const wanted = papers.filter((x) => /\b(encoders?|speech(es)?)\b/i.test(`${x.title}\n${x.abstract ?? ""}`)).map((x) => x.title);
    expect(new Set(encoders)).toEqual(new Set(wanted));
    expect(encoders.length).toBeLessThan(all.length);
    // Most upvoted first, as everywhere.
    const upvotes = new Map(papers.map((x) => [x.title, x.upvotes]));
    expect(encoders.map((t) => upvotes.get(t)!)).toEqual([...encoders.map((t) => upvotes.get(t)!)].sort((a, b) => b - a));
    const popular = box.get("popular@example.org")![0]!;
    expect(new Set(titlesIn(popular))).toEqual(new Set(papers.filter((x) => x.upvotes >= 2).map((x) => x.title)));
    // Compact: no abstracts. The subject names the reader's own top paper.
    expect(popular.html).not.toContain("Read more");
    expect(box.get("all@example.org")![0]!.html).toContain("Read more");
    expect(box.get("encoders@example.org")![0]!.subject).toMatch(new RegExp(`^Trending on Hugging Face · Dec 12: ${encoders[0]!.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    // The footer says why, with the preferences and unsubscribe links.
    const footer = box.get("encoders@example.org")![0]!.text!;
    expect(footer).toContain("subscribed to the daily digest of papers on encoder or speech at papers.example.org");
    expect(footer).toMatch(/Your choices \(topics, daily or weekly, format\): https:\/\/papers\.example\.org\/preferences\/[0-9a-z]+\.[A-Za-z0-9_-]{22}/);
    expect(box.get("all@example.org")![0]!.text).toContain("subscribed to the daily digest at papers.example.org");
    // Three groups, each rendered once; the skipped reader's group holds no papers.
    expect(p.db().prepare("SELECT count(*) AS n FROM digest_groups").get()).toEqual({ n: 4 });
  });

  it("writes a digest's ledger group by group, in the order a sender claims it", async () => {
    const p = project();
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    // Readers of two choices, alternating by id: their rows must still come group by group.
    for (let i = 0; i < 6; i++) await p.cli(["subscribers", "add", `r${i}@example.org`, "--confirmed", ...(i % 2 ? ["--format", "compact"] : [])]);
    await p.cli(["send-digest", "--dry-run"]);
    await p.cli(["send-digest", "--max-papers", "5"]);
    const rows = p.db().prepare("SELECT group_no AS g, subscriber_id AS s FROM deliveries ORDER BY rowid").all() as Array<{ g: number; s: number }>;
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => r.g)).toEqual([...rows.map((r) => r.g)].sort((a, b) => a - b));
    expect(new Set(rows.map((r) => r.g)).size).toBe(2);
  });

  it("keeps a compact digest under the email size budget, with more papers in it than a full one", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["ingest", ...SAMPLE_FILES]);
    await p.cli(["subscribers", "add", "full@example.org", "--confirmed"]);
    await p.cli(["subscribers", "add", "compact@example.org", "--confirmed", "--format", "compact"]);
    const run = JSON.parse((await p.cli(["send-digest", "--max-papers", "1000", "--json"])).stdout);
    const total = run.digests[0].papers as number;
    expect(total).toBeGreaterThan(150);
    const box = await inboxes(server);
    const [full, compact] = [box.get("full@example.org")![0]!, box.get("compact@example.org")![0]!];
    for (const mail of [full, compact]) {
      expect(Buffer.byteLength(mail.html as string)).toBeLessThanOrEqual(100 * 1024);
      expect(titlesIn(mail).length + moreIn(mail)).toBe(total);
    }
    expect(titlesIn(compact).length).toBeGreaterThan(2 * titlesIn(full).length);
    expect(compact.html).not.toContain("Read more");
    // The operator sees the same through --preview.
    const preview = JSON.parse((await p.cli(["send-digest", "--preview", "c.html", "--format", "compact", "--edition", "weekly", "--json"])).stdout);
    expect(preview.htmlBytes).toBeLessThanOrEqual(100 * 1024);
    expect(preview.subject).toMatch(/^This week on Hugging Face · Dec 12, \d{4} – Mar 11, \d{4}: .+ and \d+ more$/);
  });

  it("operators set choices from the CLI; list and export show them; bad values exit 2 naming the flag", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed", "--cadence", "weekly", "--topics", "Speech,  diffusion , speech", "--min-upvotes", "5", "--format", "compact"]);
    expect((await p.cli(["subscribers", "list"])).stdout).toMatch(/active\s+ada@example.org\s+weekly; compact; topics: speech, diffusion; >= 5 upvotes/);
    const set = await p.cli(["subscribers", "set", "ada@example.org", "--cadence", "daily", "--topics", "", "--json"]);
    expect(JSON.parse(set.stdout)).toMatchObject({ cadence: "daily", topics: [], minUpvotes: 5, format: "compact", alsoTrending: 3 });
    expect((await p.cli(["subscribers", "export"])).stdout).toContain('ada@example.org,active,');
    expect((await p.cli(["subscribers", "export"])).stdout).toMatch(/,daily,,5,compact,3$/m);
    const listed = JSON.parse((await p.cli(["subscribers", "list", "--json"])).stdout);
    expect(listed[0].choices).toEqual({ cadence: "daily", topics: [], minUpvotes: 5, format: "compact", alsoTrending: 3 });

    // An export comes back whole with import, choices included; a bad choice names its line.
    await p.cli(["subscribers", "add", "bob@example.org", "--confirmed", "--cadence", "weekly", "--topics", "speech, diffusion"]);
    const other = project();
    const csv = (await p.cli(["subscribers", "export"])).stdout;
    const imported = await other.cli(["subscribers", "import", "-", "--confirmed"], `${csv}carol@example.org,active,,,,,,fortnightly,,0,full\n`);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain("stdin:4: \"carol@example.org\" How often: must be daily or weekly");
    expect(JSON.parse((await other.cli(["subscribers", "list", "--json"])).stdout).map((r: { email: string; choices: unknown }) => [r.email, r.choices])).toEqual([
      ["ada@example.org", { cadence: "daily", topics: [], minUpvotes: 5, format: "compact", alsoTrending: 3 }],
      ["bob@example.org", { cadence: "weekly", topics: ["speech", "diffusion"], minUpvotes: 0, format: "full", alsoTrending: 3 }],
    ]);

    const bad = await p.cli(["subscribers", "set", "ada@example.org", "--cadence", "hourly"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--cadence must be daily or weekly");
    const many = await p.cli(["subscribers", "set", "ada@example.org", "--topics", Array.from({ length: 21 }, (_, i) => `t${i}`).join(",")]);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain("--topics at most 20 topics (got 21)");
    expect((await p.cli(["subscribers", "set", "ada@example.org", "--min-upvotes", "-3"])).stderr).toContain("--min-upvotes must be a whole number");
    expect((await p.cli(["subscribers", "set", "nobody@example.org", "--format", "full"])).code).toBe(2);
    expect((await p.cli(["subscribers", "set", "ada@example.org"])).stderr).toContain("nothing to set");
  });

  it("never sends a reader the same paper twice and never misses one, across daily and weekly editions and mid-week switches", async () => {
    const server = await smtp();
    const p = project(server.url);
    // Nine list days of the samples' papers: each daily digest is the news of one new day.
    const days = sampleDays(join(p.cwd, "days"), 9);
    const add = (email: string, ...flags: string[]) => p.cli(["subscribers", "add", email, "--confirmed", ...flags]);
    const set = (email: string, ...flags: string[]) => p.cli(["subscribers", "set", email, ...flags]);
    const daily = async () => {
      await p.cli(["ingest", days.shift()!]);
      expect((await p.cli(["send-digest", "--max-papers", "8"])).code).toBe(0);
    };
    const weekly = async () => expect((await p.cli(["send-digest", "--edition", "weekly"])).code).toBe(0);

    await add("daily@example.org");
    await add("weekly@example.org", "--cadence", "weekly");
    await add("d2w2d@example.org");
    await add("w2d2w@example.org", "--cadence", "weekly");
    await add("topics@example.org", "--topics", "language model");
    await daily();
    await daily();
    await weekly();
    const joinedAfter = (p.db().prepare("SELECT max(id) AS id FROM digests").get() as { id: number }).id;
    await add("late@example.org", "--cadence", "weekly", "--format", "compact");
    await daily();
    // Mid-week: switch cadence both ways, and change topics.
    await set("d2w2d@example.org", "--cadence", "weekly");
    await set("w2d2w@example.org", "--cadence", "daily");
    await set("topics@example.org", "--topics", "vision", "--cadence", "weekly");
    await daily();
    await daily();
    await weekly();
    await daily();
    // And back.
    await set("d2w2d@example.org", "--cadence", "daily");
    await set("w2d2w@example.org", "--cadence", "weekly");
    await daily();
    await daily();
    await weekly();
    // A final weekly edition after the last daily one: everyone is caught up.
    await daily();
    await weekly();

    const db = p.db();
    const dailyDigests = db.prepare("SELECT id FROM digests WHERE edition = 'daily' ORDER BY id").all() as Array<{ id: number }>;
    expect(dailyDigests.length).toBe(9);
    const paperTitle = new Map((db.prepare("SELECT id, title FROM papers").all() as Array<{ id: number; title: string }>).map((r) => [r.id, r.title]));
    const published = (after: number) =>
      (db.prepare("SELECT paper_id AS id FROM digest_papers WHERE digest_id > ?").all(after) as Array<{ id: number }>).map((r) => paperTitle.get(r.id)!);

    const box = await inboxes(server);
    /** What each email offered: the titles it lists plus those "And N more" sends to the archive, by the ledger's group. */
    const offered = (email: string) => {
      const rows = db
        .prepare(
          `SELECT g.paper_ids AS ids FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
           JOIN digest_groups g ON g.digest_id = d.digest_id AND g.group_no = d.group_no WHERE s.email = ? AND d.status = 'sent' ORDER BY d.digest_id`,
        )
        .all(email) as Array<{ ids: string }>;
      const mails = box.get(email) ?? [];
      expect(mails.length).toBe(rows.length);
      return rows.flatMap((r, i) => {
        const titles = (JSON.parse(r.ids) as number[]).map((id) => paperTitle.get(id)!);
        // The email lists the group's papers in order, and counts the ones the size budget left to the archive.
        const shown = titlesIn(mails[i]!);
        expect(shown).toEqual(titles.slice(0, shown.length));
        expect(shown.length + moreIn(mails[i]!)).toBe(titles.length);
        return titles;
      });
    };
    const noRepeats = (titles: string[]) => expect(titles.length).toBe(new Set(titles).size);

    // Readers there from the start, whatever cadence they switched to, got every paper once.
    for (const email of ["daily@example.org", "weekly@example.org", "d2w2d@example.org", "w2d2w@example.org"]) {
      const got = offered(email);
      noRepeats(got);
      expect(new Set(got)).toEqual(new Set(published(0)));
    }
    // The switchers got both kinds of email.
    const subjects = (email: string) => box.get(email)!.map((m) => (m.subject!.startsWith("This week on Hugging Face") ? "weekly" : "daily"));
    expect(new Set(subjects("d2w2d@example.org"))).toEqual(new Set(["daily", "weekly"]));
    expect(new Set(subjects("w2d2w@example.org"))).toEqual(new Set(["daily", "weekly"]));
    expect(subjects("weekly@example.org").every((s) => s === "weekly")).toBe(true);

    // Someone who subscribed mid-way gets what was published from then on, nothing older.
    const late = offered("late@example.org");
    noRepeats(late);
    expect(new Set(late)).toEqual(new Set(published(joinedAfter)));

    // Topics changed mid-week: no repeats, only matching papers, and nothing that matched both is missed.
    const topical = offered("topics@example.org");
    noRepeats(topical);
    const abstract = new Map((db.prepare("SELECT title, abstract FROM papers").all() as Array<{ title: string; abstract: string | null }>).map((r) => [r.title, r.abstract ?? ""]));
    const matches = (title: string, re: RegExp) => re.test(`${title}\n${abstract.get(title)}`);
    const language = /\blanguage[\s-]+models?\b/i;
    const vision = /\bvisions?\b/i;
    for (const t of topical) expect(matches(t, language) || matches(t, vision)).toBe(true);
    const both = published(0).filter((t) => matches(t, language) && matches(t, vision));
    expect(both.length).toBeGreaterThan(0);
    for (const t of both) expect(topical).toContain(t);
    expect(topical.some((t) => matches(t, vision) && !matches(t, language))).toBe(true);
  }, 120_000);

  it("overlapping daily and weekly runs from several processes send each reader each paper once", async () => {
    const server = await smtp();
    const p = project(server.url);
    p.env.PAPERMAIL_SMTP_POOL = "4";
    await p.cli(["ingest", SAMPLE_FILES[0]!, SAMPLE_FILES[1]!]);
    await p.cli(["subscribers", "import", "-", "--confirmed"], "email,cadence,topics\n" + Array.from({ length: 30 }, (_, i) => `r${i}@example.org,${i % 2 ? "weekly" : "daily"},${i % 3 ? "" : "model"}`).join("\n"));
    await p.cli(["send-digest", "--max-papers", "10"]);
    await p.cli(["ingest", SAMPLE_FILES[2]!]);
    const runs = [["send-digest", "--edition", "weekly"], ["send-digest", "--edition", "weekly"], ["send-digest", "--max-papers", "10"], ["send-digest", "--max-papers", "10"]].map((args) =>
      spawnCli(args, { cwd: p.cwd, env: p.env }),
    );
    await Promise.all(runs.map((c) => new Promise((r) => c.on("exit", r))));
    await p.cli(["send-digest", "--edition", "weekly"]);
    await p.cli(["send-digest", "--max-papers", "10"]);
    await p.cli(["send-digest", "--edition", "weekly"]);

    const db = p.db();
    const titles = new Map((db.prepare("SELECT id, title FROM papers").all() as Array<{ id: number; title: string }>).map((r) => [r.id, r.title]));
    const box = await inboxes(server);
    for (let i = 0; i < 30; i++) {
      const email = `r${i}@example.org`;
      const got = (box.get(email) ?? []).flatMap((m) => titlesIn(m).concat(Array(moreIn(m)).fill("(more)")));
      const listed = got.filter((t) => t !== "(more)");
      expect(listed.length).toBe(new Set(listed).size);
      // Everyone without topics got every published paper, whichever run sent it.
      const published = (db.prepare("SELECT paper_id AS id FROM digest_papers").all() as Array<{ id: number }>).map((r) => titles.get(r.id)!);
      if (i % 3) expect(got.length).toBe(published.length);
      // Weekly readers got weekly emails only.
      if (i % 2) expect((box.get(email) ?? []).every((m) => /^This week on Hugging Face · Dec 1[25]/.test(m.subject!))).toBe(true);
    }
    expect(server.received.length).toBe(new Set(server.received.map((m) => m.raw.toString("latin1").match(/^Message-ID: <([^>]+)>/m)![1])).size);
  }, 60_000);

  it("an upgraded database owes its readers nothing already published, and starts every new reader at the newest digest", () => {
    const file = join(tempDir(), "old.db");
    const old = new Database(file);
    // The schema as it was before readers had choices (migrations 001 to 007).
    for (const f of readdirSync(join(ROOT, "db")).filter((n) => n < "008").sort()) old.exec(readFileSync(join(ROOT, "db", f), "utf8"));
    old.pragma("user_version = 7");
    old.prepare("INSERT INTO subscribers (email, status, created_at) VALUES ('old@example.org', 'active', '')").run();
    for (let i = 0; i < 3; i++) old.prepare("INSERT INTO digests (created_at, subject, paper_count, recipient_count, status) VALUES ('', 's', 0, 0, 'done')").run();
    old.close();

    const db = openDatabase(file);
    const cursor = (email: string) => (db.prepare("SELECT covered_through AS c FROM subscribers WHERE email = ?").get(email) as { c: number }).c;
    expect(cursor("old@example.org")).toBe(3);
    db.prepare("INSERT INTO subscribers (email, status, created_at) VALUES ('new@example.org', 'pending', '')").run();
    db.prepare("INSERT INTO digests (created_at, subject, paper_count, recipient_count, status) VALUES ('', 's', 0, 0, 'done')").run();
    db.prepare("UPDATE subscribers SET status = 'active' WHERE email = 'new@example.org'").run();
    expect(cursor("new@example.org")).toBe(4);
    db.close();
  });
});
