import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listen } from "../helpers/listen.js";
import { ROOT, tempDir } from "../helpers/files.js";
import { context, project } from "../helpers/project.js";

const RECORDED = join(ROOT, "tests", "fixtures", "daily_papers", "2024-12-12.json");

describe("fetch against hostile or absent servers", () => {
  /** A local API answering every request with `handler`. */
  async function api(handler: Parameters<typeof createServer>[1]) {
    return `http://127.0.0.1:${await listen(createServer(handler))}`;
  }
  const base = () => ({ dumpsDir: join(tempDir(), "dumps"), userAgent: "papermail/test", backoffMs: 10, attempts: 2 });

  it("refuses an answer over the size cap as it streams in, announced or not, and writes nothing", async () => {
    const { fetchDailyPapers } = await import("../../src/fetch/daily-papers.js");
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
    const { fetchDailyPapers } = await import("../../src/fetch/daily-papers.js");
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
    const { fetchDailyPapers } = await import("../../src/fetch/daily-papers.js");
    const o = base();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: "http://no-such-host.invalid/api" })).rejects.toThrow(/cannot resolve no-such-host\.invalid \(DNS: E[A-Z_]+\)/);
    // Nothing can listen on port 0: the connection is refused, every time.
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: "http://127.0.0.1:0/api" })).rejects.toThrow(/127\.0\.0\.1:0 refused the connection/);
    // A plain HTTP server spoken to over https:// fails its TLS handshake.
    const plain = await api((_req, res) => res.end("[]"));
    await expect(fetchDailyPapers("2024-12-12", new Date(), { ...o, apiUrl: plain.replace("http:", "https:") })).rejects.toThrow(/TLS with 127\.0\.0\.1:\d+ failed/);
  });

  it("a fetch held by a trickling server never holds up ingest in the scheduler", async () => {
    const { createScheduler } = await import("../../src/scheduler/scheduler.js");
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

});
