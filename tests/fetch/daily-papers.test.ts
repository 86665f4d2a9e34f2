import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { fetchDailyPapers } from "../../src/fetch/daily-papers.js";
import { ROOT, SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { listen } from "../helpers/listen.js";
import { project, smtp } from "../helpers/project.js";

const RECORDED = join(ROOT, "tests", "fixtures", "daily_papers", "2024-12-12.json");
const recorded = () => JSON.parse(readFileSync(RECORDED, "utf8")) as Array<{ paper: { id: string; title: string; upvotes: number } }>;

/** A local stand-in for the daily_papers API that answers as `handler` says and records requests. */
async function api(handler: (req: IncomingMessage, n: number) => { status?: number; body?: string; headers?: Record<string, string>; delayMs?: number; stallBody?: boolean }) {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const a = handler(req, requests.length);
    // A server that never answers: only the client's own deadline ends the wait.
    if (a.delayMs === Infinity) return;
    // Headers and half a body, then silence.
    if (a.stallBody) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write((a.body ?? "").slice(0, 10));
      return;
    }
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(a.status ?? 200, { "Content-Type": "application/json", ...a.headers });
      res.end(a.body ?? "");
    }, a.delayMs ?? 0);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/api/daily_papers`, requests };
}

describe("daily_papers JSON dumps", () => {
  it("ingest a recorded day with arXiv ids, author names, links, comments and keywords", async () => {
    const p = project();
    const r = await p.cli(["ingest", RECORDED, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ status: "ingested", papers: 5, new: 5 });
    const papers = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<Record<string, unknown>>;
    const armor = papers.find((x) => String(x.title).startsWith("ARMOR"))!;
    expect(armor).toMatchObject({
      arxivId: "2412.08123",
      authors: ["Jianwen Sun", "Yukang Feng", "Chuanhao Li", "Fanrui Zhang", "Zizhen Li"],
      numComments: 1,
      keywords: ["multimodal"],
      url: "https://huggingface.co/papers/2412.08123",
      arxivUrl: "https://arxiv.org/abs/2412.08123",
      pdfUrl: "https://arxiv.org/pdf/2412.08123",
    });
    expect(papers.find((x) => String(x.title).startsWith("SAILER"))).toMatchObject({ githubRepo: "https://github.com/CSHaitao/SAILER", codeUrl: "https://github.com/CSHaitao/SAILER" });
    expect(papers.find((x) => String(x.title).startsWith("Return of"))).toMatchObject({ orgHandle: "microsoft", orgName: "Microsoft" });
  });

  it("keeps a paper seen as page text and as JSON one paper, sent once, whichever came first", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    // The page of Dec 12, 2024 as captured that day, then the JSON of the same day.
    await p.cli(["ingest", SAMPLE_FILES[0]!, "--captured-at", "2024-12-12T18:00:00Z"]);
    const first = JSON.parse((await p.cli(["send-digest", "--json"])).stdout).digests[0];
    expect(first.papers).toBe(4);
    const r = JSON.parse((await p.cli(["ingest", RECORDED, "--json"])).stdout).files[0];
    expect(r).toMatchObject({ papers: 5, new: 1 });
    // A late arrival of a day already covered goes out with the next new day, and the four sent papers stay sent.
    expect(JSON.parse((await p.cli(["send-digest", "--json"])).stdout).digests).toEqual([]);
    await p.cli(["ingest", SAMPLE_FILES[2]!, "--captured-at", "2024-12-15T18:00:00Z"]);
    const second = JSON.parse((await p.cli(["send-digest", "--json", "--max-papers", "100"])).stdout).digests[0];
    const db = p.db();
    const fates = db.prepare("SELECT title, fate, digest_id AS digest FROM papers JOIN paper_fates ON paper_id = papers.id WHERE title IN ('A Paper Only The JSON Lists', 'Return of the Encoder: Maximizing Parameter Efficiency for SLMs') ORDER BY title").all();
    db.close();
    expect(fates).toEqual([
      { title: "A Paper Only The JSON Lists", fate: "sent", digest: 2 },
      { title: "Return of the Encoder: Maximizing Parameter Efficiency for SLMs", fate: "sent", digest: 1 },
    ]);
    expect(second.papers).toBe(57);
    // The other way round: JSON first, then the page text adds nothing new.
    const q = project();
    await q.cli(["ingest", RECORDED]);
    expect(JSON.parse((await q.cli(["ingest", SAMPLE_FILES[0]!, "--json"])).stdout).files[0]).toMatchObject({ new: 0, papers: 4 });
    expect(JSON.parse((await q.cli(["status", "--json"])).stdout).papers.total).toBe(5);
  });

  it("reports an entry without a title by its index and rejects JSON that is not a daily_papers list, keeping the rest", async () => {
    const p = project();
    const partial = recorded();
    (partial[1]!.paper as { title?: string }).title = undefined;
    delete (partial[1] as { title?: string }).title;
    const dir = join(p.cwd, "in");
    mkdirSync(dir);
    writeFileSync(join(dir, "a-partial.json"), JSON.stringify(partial));
    writeFileSync(join(dir, "b-object.json"), JSON.stringify({ papers: [] }));
    writeFileSync(join(dir, "c-broken.json"), '[{"paper": {"title": "x"');
    writeFileSync(join(dir, "d-lines.json"), partial.slice(2).map((e) => JSON.stringify(e)).join("\n"));
    const r = await p.cli(["ingest", dir, "--json"]);
    expect(r.code).toBe(1);
    const files = JSON.parse(r.stdout).files as Array<{ path: string; status: string; papers: number; error: string | null; problems: Array<{ message: string }> }>;
    expect(files.map((f) => [f.path.split("/").pop(), f.status, f.papers])).toEqual([
      ["a-partial.json", "ingested", 4],
      ["b-object.json", "rejected", 0],
      ["c-broken.json", "rejected", 0],
      ["d-lines.json", "ingested", 3],
    ]);
    expect(files[0]!.problems[0]!.message).toBe("entry 1: no title; skipped");
    expect(files[1]!.error).toMatch(/an object rather than a list of daily_papers entries/);
    expect(files[2]!.error).toMatch(/not valid JSON/);
  });

  it("links to the paper's page and arXiv in the email, the archive and the feed; thumbnails only when asked", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", RECORDED]);
    await p.cli(["send-digest"]);
    const mail = await server.parse(server.received[0]!);
    const html = mail.html as string;
    expect(html).toContain('href="https://huggingface.co/papers/2412.08123"');
    expect(html).toContain('href="https://arxiv.org/abs/2412.08123"');
    expect(html).toContain('href="https://arxiv.org/pdf/2412.08123"');
    expect(html).toMatch(/Jianwen Sun, Yukang Feng, Chuanhao Li et al\./);
    expect(html).toMatch(/Microsoft/);
    expect(html).toMatch(/1 comment\b/);
    expect(html).not.toContain("<img");
    expect(mail.text).toContain("arXiv: https://arxiv.org/abs/2412.08123");
    await p.cli(["feed", "--out", "feed.xml"]);
    const feed = new XMLParser().parse(readFileSync(join(p.cwd, "feed.xml"), "utf8"));
    const items = feed.rss.channel.item as Array<{ link: string; description: string }>;
    // Each item links to the paper's own page here, which leads on to Hugging Face and arXiv, as the item's text does.
    const item = items.find((i) => i.description.includes("https://huggingface.co/papers/2412.08123"))!;
    expect(item.link).toMatch(/^https:\/\/papers.example.org\/papers\/[a-z0-9]+$/);
    expect(item.description).toMatch(/arxiv\.org\/abs\/2412\.08123/);

    const q = project(server.url);
    q.env.PAPERMAIL_THUMBNAILS = "true";
    await q.cli(["subscribers", "add", "bob@example.org", "--confirmed"]);
    await q.cli(["ingest", RECORDED]);
    await q.cli(["send-digest"]);
    const withImages = (await server.parse(server.received[1]!)).html as string;
    expect(withImages).toMatch(/<img src="https:\/\/cdn-thumbnails\.huggingface\.co\/[^"]+" alt="Thumbnail of ARMOR/);
  });
});

describe("papermail fetch", () => {
  it("downloads a day with a User-Agent into a dated file and ingests it; a later fetch updates without duplicating", async () => {
    let upvoteBoost = 0;
    const server = await api(() => ({ body: JSON.stringify(recorded().map((e) => ({ ...e, paper: { ...e.paper, upvotes: e.paper.upvotes + upvoteBoost } }))) }));
    const p = project();
    Object.assign(p.env, { PAPERMAIL_HF_API_URL: server.url, PAPERMAIL_DUMPS_DIR: join(p.cwd, "dumps") });
    const first = await p.cli(["fetch", "--date", "2024-12-12", "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).days[0]).toMatchObject({ date: "2024-12-12", entries: 5, new: 5 });
    const req = server.requests[0]!;
    expect(req.headers["user-agent"]).toMatch(/^papermail\/\d+\.\d+\.\d+/);
    expect(new URL(req.url!, "http://x").searchParams.get("date")).toBe("2024-12-12");
    expect(readdirSync(join(p.cwd, "dumps"))).toEqual([expect.stringMatching(/^daily_papers_2024-12-12_fetched-\d{8}T\d{6}Z\.json$/)]);
    upvoteBoost = 100;
    // Fetched again at once (often within the same second): both answers are kept, the newer counts win.
    const again = JSON.parse((await p.cli(["fetch", "--date", "2024-12-12", "--json"])).stdout).days[0];
    expect(again).toMatchObject({ new: 0, updated: 5 });
    const papers = JSON.parse((await p.cli(["papers", "--json"])).stdout) as Array<{ upvotes: number }>;
    expect(papers).toHaveLength(5);
    expect(papers.every((x) => x.upvotes >= 100)).toBe(true);
  }, 30_000);

  it("retries 429 and 5xx honouring Retry-After, gives up on a slow or malformed answer, and never leaves a partial file", async () => {
    const dumpsDir = join(tempDir(), "dumps");
    const base = { dumpsDir, userAgent: "papermail/test", backoffMs: 10, maxWaitMs: 2000, attempts: 3 };
    const body = JSON.stringify(recorded());
    // 429 with Retry-After: 1, then a 503, then the list.
    const flaky = await api((_req, n) => (n === 1 ? { status: 429, headers: { "Retry-After": "1" } } : n === 2 ? { status: 503 } : { body }));
    const started = Date.now();
    const day = await fetchDailyPapers("2024-12-12", new Date(), { ...base, apiUrl: flaky.url });
    expect(day.entries).toBe(5);
    expect(flaky.requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

    const failing = await api(() => ({ status: 500 }));
    await expect(fetchDailyPapers("2024-12-13", new Date(), { ...base, apiUrl: failing.url })).rejects.toThrow(/gave up after 3 tries \(HTTP 500/);
    const slow = await api(() => ({ body, delayMs: Infinity }));
    await expect(fetchDailyPapers("2024-12-14", new Date(), { ...base, apiUrl: slow.url, timeoutMs: 200, attempts: 2 })).rejects.toThrow(/no answer within/);
    const stalled = await api(() => ({ body, stallBody: true }));
    await expect(fetchDailyPapers("2024-12-14", new Date(), { ...base, apiUrl: stalled.url, timeoutMs: 200, attempts: 2 })).rejects.toThrow(/no answer within/);
    const malformed = await api(() => ({ body: "<html>502 Bad Gateway</html>" }));
    await expect(fetchDailyPapers("2024-12-15", new Date(), { ...base, apiUrl: malformed.url })).rejects.toThrow(/not JSON/);
    const wrongShape = await api(() => ({ body: JSON.stringify([{ nope: 1 }]) }));
    await expect(fetchDailyPapers("2024-12-16", new Date(), { ...base, apiUrl: wrongShape.url })).rejects.toThrow(/not a daily_papers list/);
    const forbidden = await api(() => ({ status: 403 }));
    await expect(fetchDailyPapers("2024-12-17", new Date(), { ...base, apiUrl: forbidden.url })).rejects.toThrow(/HTTP 403/);
    expect(forbidden.requests).toHaveLength(1);
    // Only the one good day is in the folder: nothing partial, nothing hidden left behind.
    expect(readdirSync(dumpsDir)).toEqual([expect.stringMatching(/^daily_papers_2024-12-12_/)]);
  }, 30_000);
});

describe("sample data is a demo", () => {
  it("a fresh clone shows the samples; a configured installation never mails them unless ingested on purpose", async () => {
    const p = project();
    delete (p.env as Record<string, string>).PAPERMAIL_SMTP_URL;
    // Unconfigured: `ingest` reads the bundled samples and a digest goes to the outbox.
    const demo = await runCli(["ingest", "--json"], { cwd: p.cwd, env: p.env });
    expect(JSON.parse(demo.stdout).totals).toMatchObject({ files: 4, new: 168 });
    expect((await runCli(["status"], { cwd: p.cwd, env: p.env })).stdout).toMatch(/demo {9}no PAPERMAIL_DUMPS_DIR or PAPERMAIL_SMTP_URL set/);

    // Now the operator configures a mail server and their own dumps folder.
    const server = await smtp();
    // The list days here span 2024 to 2026: the digest reaches back over all of them.
    const configured = { ...p.env, PAPERMAIL_SMTP_URL: server.url, PAPERMAIL_DUMPS_DIR: join(p.cwd, "mine"), PAPERMAIL_CATCH_UP_DAYS: "30" };
    mkdirSync(join(p.cwd, "mine"));
    await runCli(["subscribers", "add", "ada@example.org", "--confirmed"], { cwd: p.cwd, env: configured });
    const dry = await runCli(["send-digest", "--dry-run"], { cwd: p.cwd, env: configured });
    expect(dry.stdout).toContain("Nothing to publish: no papers to send yet");
    expect((await runCli(["status"], { cwd: p.cwd, env: configured })).stdout).toMatch(/168 sample paper\(s\) from the demo are kept out of digests/);
    const sent = await runCli(["send-digest", "--json"], { cwd: p.cwd, env: configured });
    expect(JSON.parse(sent.stdout).digests).toEqual([]);
    expect(server.received).toHaveLength(0);
    // Their own dump goes out; a sample ingested by name on purpose does too.
    copyFileSync(RECORDED, join(p.cwd, "mine", "2024-12-12.json"));
    await runCli(["ingest"], { cwd: p.cwd, env: configured });
    await runCli(["ingest", SAMPLE_FILES[3]!], { cwd: p.cwd, env: configured });
    const next = JSON.parse((await runCli(["send-digest", "--json", "--max-papers", "500"], { cwd: p.cwd, env: configured })).stdout).digests[0];
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(join(p.cwd, "var", "papermail.db"), { readonly: true });
    const titles = (db.prepare("SELECT p.title FROM digest_papers dp JOIN papers p ON p.id = dp.paper_id").all() as Array<{ title: string }>).map((r) => r.title);
    db.close();
    expect(next.papers).toBe(titles.length);
    expect(titles).toContain("A Paper Only The JSON Lists");
    expect(titles.some((t) => t.startsWith("SkeletonMAE"))).toBe(true); // a sample paper their own JSON also lists
    // Every paper of the sample ingested on purpose went out; a sample left alone did not.
    const { parseDump } = await import("../../src/dump/parse.js");
    const on = parseDump(readFileSync(SAMPLE_FILES[3]!), { capturedAt: new Date("2025-03-12T12:00:00Z") }).papers.map((x) => x.title);
    for (const t of on) expect(titles).toContain(t);
    expect(titles.some((t) => /^Capability Instruction Tuning/i.test(t))).toBe(false);
    expect(existsSync(join(p.cwd, "var", "outbox"))).toBe(false);
  }, 60_000);

  it("papers purge removes unsent papers by dump, date or all, with a dry run first", async () => {
    const p = project();
    p.env.PAPERMAIL_DUMPS_DIR = join(p.cwd, "mine");
    await p.cli(["ingest", SAMPLE_FILES[0]!, SAMPLE_FILES[2]!]);
    const total = async () => JSON.parse((await p.cli(["status", "--json"])).stdout).papers.total as number;
    const before = await total();
    const dry = await p.cli(["papers", "purge", "--dump", SAMPLE_FILES[0]!, "--dry-run"]);
    expect(dry.stdout).toMatch(/4 unsent paper\(s\) would be removed \(dry run: nothing changed\)/);
    expect(await total()).toBe(before);
    await p.cli(["papers", "purge", "--dump", SAMPLE_FILES[0]!]);
    expect(await total()).toBe(before - 4);
    expect((await p.cli(["papers", "purge", "--unsent", "--before", "2020-01-01"])).code).toBe(2);
    await p.cli(["papers", "purge", "--unsent"]);
    expect(await total()).toBe(0);
  });
});
