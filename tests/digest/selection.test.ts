import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ParsedMail } from "mailparser";
import { startServe } from "../helpers/cli.js";
import { daysAgo, shortDay, writeDay, type DayEntry } from "../helpers/daily-papers.js";
import { project, smtp } from "../helpers/project.js";
import { inboxes } from "../helpers/smtp-server.js";

/** The numbered titles of a digest's text part, in order. */
const titlesIn = (mail: ParsedMail) => [...(mail.text ?? "").matchAll(/^\d+\. (.+)$/gm)].map((m) => m[1]!);
/** The titles under "Also trending" in a digest's text part. */
const alsoIn = (mail: ParsedMail) => [...((mail.text ?? "").split("\nAlso trending\n")[1] ?? "").matchAll(/^- (.+)$/gm)].map((m) => m[1]!);

/** Eight general papers that fill the global top 5 of a day, and speech papers below them. */
function busyDay(n: number): DayEntry[] {
  const id = (j: number) => `2511.${String(n).padStart(2, "0")}${String(j).padStart(3, "0")}`;
  return [
    ...Array.from({ length: 8 }, (_, j) => ({ id: id(j), title: `General study ${n}-${j}`, upvotes: 50 - 2 * j })),
    { id: id(20), title: `WavTokenizer ${n}: a speech codec`, upvotes: 20 },
    { id: id(21), title: `DiffDub ${n}: speech dubbing by diffusion`, upvotes: 18 },
    { id: id(22), title: `Streaming speech recognition ${n}`, upvotes: 12 },
    { id: id(23), title: `Speech in noise ${n}`, upvotes: 12 },
    // Withdrawn: the most upvoted speech paper, and in no digest.
    { id: id(24), title: `Withdrawn speech model ${n}`, upvotes: 99, withdrawnAt: `${daysAgo(0)}T08:00:00.000Z` },
  ];
}

async function twoReaders() {
  const server = await smtp();
  const p = project(server.url);
  const dumps = join(p.cwd, "dumps");
  Object.assign(p.env, { PAPERMAIL_DUMPS_DIR: dumps, PAPERMAIL_MAX_PAPERS: "5" });
  await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
  await p.cli(["subscribers", "add", "bob@example.org", "--confirmed", "--topics", "speech"]);
  return { ...p, server, dumps };
}

describe("each reader's digest is chosen for them", () => {
  it("sends a topic reader the best papers of the day on their topics, outside the global top 5, with why and Also trending, never twice", async () => {
    const p = await twoReaders();
    writeDay(p.dumps, daysAgo(2), busyDay(2));
    expect((await p.cli(["ingest"])).code).toBe(0);
    expect((await p.cli(["send-digest"])).code).toBe(0);

    const box = await inboxes(p.server);
    const [ada, bob] = [box.get("ada@example.org")![0]!, box.get("bob@example.org")![0]!];
    // A reader without topics gets the global top 5, as before.
    expect(titlesIn(ada)).toEqual([0, 1, 2, 3, 4].map((j) => `General study 2-${j}`));
    expect(alsoIn(ada)).toEqual([]);
    // The speech reader gets every speech paper of the day, none of them in the global top 5,
    // ranked by upvotes (the tie of 12 broken the same way everywhere, by the paper's key).
    const speech = titlesIn(bob);
    expect(speech.slice(0, 2)).toEqual(["WavTokenizer 2: a speech codec", "DiffDub 2: speech dubbing by diffusion"]);
    expect(new Set(speech.slice(2))).toEqual(new Set(["Streaming speech recognition 2", "Speech in noise 2"]));
    expect(bob.subject).toContain("WavTokenizer 2");
    // Why each is there: the topic it matched and its place on the day's list (the withdrawn paper is not counted).
    expect(bob.text).toContain(`matches speech · #9 of 12 on ${shortDay(daysAgo(2))}`);
    expect(bob.html).toContain(`matches speech · #10 of 12 on ${shortDay(daysAgo(2))}`);
    // The day's big papers are not missed: the top 3 of the global list, under their own.
    expect(alsoIn(bob)).toEqual([0, 1, 2].map((j) => `General study 2-${j}`));
    expect(bob.html).toContain("Also trending");
    for (const mail of [ada, bob]) expect(mail.text).not.toContain("Withdrawn speech model");

    // The next day brings only that day's papers: nothing is sent to the same reader twice.
    writeDay(p.dumps, daysAgo(1), busyDay(1));
    await p.cli(["ingest"]);
    expect((await p.cli(["send-digest"])).code).toBe(0);
    const next = (await inboxes(p.server)).get("bob@example.org")!;
    expect(next).toHaveLength(2);
    expect(titlesIn(next[1]!).every((t) => t.endsWith(" 1") || t.includes(" 1:"))).toBe(true);
    const all = next.flatMap(titlesIn);
    expect(new Set(all).size).toBe(all.length);

    // The ledger knows what each group got; the speech papers are sent, the withdrawn one passed over.
    const db = p.db();
    const fates = db
      .prepare("SELECT p.title, f.fate, f.note FROM paper_fates f JOIN papers p ON p.id = f.paper_id WHERE p.title LIKE '%2%' ORDER BY p.title")
      .all() as Array<{ title: string; fate: string; note: string | null }>;
    db.close();
    expect(fates.find((f) => f.title === "WavTokenizer 2: a speech codec")).toMatchObject({ fate: "sent" });
    expect(fates.find((f) => f.title === "Withdrawn speech model 2")).toMatchObject({ fate: "passed-over", note: "withdrawn on Hugging Face" });
    expect(fates.find((f) => f.title === "General study 2-7")!.note).toMatch(/^ranked 8 of 12 for .+ with 36 upvotes, over PAPERMAIL_MAX_PAPERS=5; no reader's topics matched it$/);
  });

  it("shows a reader's own digest on the web from their email's link, and the filtered feed carries what they got", async () => {
    const p = await twoReaders();
    writeDay(p.dumps, daysAgo(2), busyDay(2));
    await p.cli(["ingest"]);
    await p.cli(["send-digest"]);
    const bob = (await inboxes(p.server)).get("bob@example.org")![0]!;
    const emailed = titlesIn(bob);

    const link = /^View this digest on the web: (\S+)$/m.exec(bob.text!)![1]!;
    expect(link).toBe("https://papers.example.org/digests/1?topics=speech");
    const site = await startServe(["--no-scheduler"], { cwd: p.cwd, env: p.env });
    const page = await (await fetch(`${site.base}/digests/1?topics=speech`)).text();
    const onPage = [...page.matchAll(/<h2><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]!);
    expect(onPage).toEqual(emailed);
    expect(page).toContain("Also trending");
    expect(page).toContain("See all 5 papers of this digest");
    // Without the choices, the page is the global list.
    const global = await (await fetch(`${site.base}/digests/1`)).text();
    expect([...global.matchAll(/<h2><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]!)).toEqual([0, 1, 2, 3, 4].map((j) => `General study 2-${j}`));
    // A bad choice in the link is a clear 400.
    const bad = await fetch(`${site.base}/digests/1?topics=speech&also=99`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("also: must be a whole number from 0 to 10");

    const feed = JSON.parse(await (await fetch(`${site.base}/feed.json?topics=speech`)).text()) as { items: Array<{ title: string }> };
    expect(feed.items.map((i) => i.title)).toEqual(emailed);
    // The paper page says what became of a paper outside the global list.
    const db = p.db();
    const slug = (db.prepare("SELECT slug FROM papers WHERE title = ?").get("DiffDub 2: speech dubbing by diffusion") as { slug: string }).slug;
    const withdrawn = (db.prepare("SELECT slug FROM papers WHERE title = ?").get("Withdrawn speech model 2") as { slug: string }).slug;
    db.close();
    expect(await (await fetch(`${site.base}/papers/${slug}`)).text()).toContain("sent in digest #1 to readers of papers on speech");
    expect(await (await fetch(`${site.base}/papers/${withdrawn}`)).text()).toContain("Hugging Face marked this paper withdrawn");
    // A paper no one got says the real reason, with the count it had then.
    const db2 = p.db();
    const eighth = (db2.prepare("SELECT slug FROM papers WHERE title = ?").get("General study 2-7") as { slug: string }).slug;
    db2.close();
    expect(await (await fetch(`${site.base}/papers/${eighth}`)).text()).toMatch(/passed over: ranked 8 of 12 for [A-Z][a-z]{2} \d+ with 36 upvotes, over PAPERMAIL_MAX_PAPERS(=|&#x3D;)5; no reader(&#x27;|&#39;|.)s topics matched it/);
  });

  it("keeps tied papers in one order in the email, the dry run, the web page and the feed", async () => {
    const server = await smtp();
    const p = project(server.url);
    const dumps = join(p.cwd, "dumps");
    Object.assign(p.env, { PAPERMAIL_DUMPS_DIR: dumps });
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    // Papers tied at 7 upvotes over two list days of one digest: the newer day's were published long before.
    const tied = (n: number, titles: string[], publishedOn: string) => titles.map((title, j) => ({ id: `2511.0${n}00${j}`, title, upvotes: 7, publishedOn }));
    writeDay(dumps, daysAgo(2), tied(2, ["Seq vs Seq", "Alpha", "Omega"], daysAgo(2)));
    writeDay(dumps, daysAgo(1), tied(1, ["Super Mario", "Middle", "Zeta"], daysAgo(60)));
    await p.cli(["ingest"]);
    const dry = JSON.parse((await p.cli(["send-digest", "--dry-run", "--json"])).stdout) as { papers: Array<{ title: string }> };
    const planned = dry.papers.map((x) => x.title);
    // The newer list day first, then a stable key within a day.
    expect(planned.slice(0, 3).sort()).toEqual(["Middle", "Super Mario", "Zeta"]);
    await p.cli(["send-digest"]);
    const mail = (await inboxes(server)).get("ada@example.org")![0]!;
    expect(titlesIn(mail)).toEqual(planned);
    expect(mail.subject).toContain(planned[0]);
    const site = await startServe(["--no-scheduler"], { cwd: p.cwd, env: p.env });
    const page = await (await fetch(`${site.base}/digests/1`)).text();
    expect([...page.matchAll(/<h2><a href="[^"]+">([^<]+)<\/a><\/h2>/g)].map((m) => m[1]!)).toEqual(planned);
    const feed = JSON.parse(await (await fetch(`${site.base}/feed.json`)).text()) as { items: Array<{ title: string }> };
    expect(feed.items.map((i) => i.title)).toEqual(planned);
  });
});
