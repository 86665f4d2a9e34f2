// Site benchmark: /feed.xml (200 and 304) and / over loopback with a load generator in
// another process, and the feed render time for 100 and 1,000 items.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../dist/config/load.js";
import { createApp } from "../dist/server/app.js";
import { openDatabase } from "../dist/store/db.js";
import { upsertPapers } from "../dist/store/paper-writer.js";
import { freezeEdition } from "../dist/digest/editions.js";
import { renderFeed } from "../dist/render/feed.js";
import { parseDump } from "../dist/dump/parse.js";
import { buildSyntheticDump } from "./bench-ingest.js";

const LOAD = fileURLToPath(new URL("./load.js", import.meta.url));
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);

function load(url, headers = []) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LOAD, url, String(SECONDS), "16", ...headers], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
  });
}

function median(fn, runs = 15) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

export async function benchServer() {
  const dir = mkdtempSync(join(tmpdir(), "papermail-bench-http-"));
  try {
    const config = loadConfig({ PAPERMAIL_DB: join(dir, "bench.db"), PAPERMAIL_FEED_ITEMS: "50" }, dir);
    const db = openDatabase(config.dbPath);
    const { papers } = parseDump(buildSyntheticDump(2_000_000).text, { capturedAt: new Date() });
    db.prepare("INSERT INTO dumps (sha256, path, size, mtime_ms, status, ingested_at) VALUES ('x', 'x', 0, 0, 'ingested', '')").run();
    // A list day of 30 papers at a time, each made into its digest, so the feed and the front page have content.
    for (let i = 0; i * 30 < papers.length; i++) {
      const day = new Date(Date.parse("2019-01-01") + i * 86_400_000).toISOString().slice(0, 10);
      db.transaction(() => upsertPapers(db, papers.slice(i * 30, i * 30 + 30), { capturedAt: `${day}T23:00:00Z`, seenAt: `${day}T23:00:00Z`, dumpId: 1, listDay: day }))();
      freezeEdition(db, { edition: "daily", maxPapers: 30, at: `${day}T23:59:00Z`, includeToday: true, subject: (papers) => `${papers.length} trending papers` });
    }

    // The feed's items as the site reads them (links and authors decoded), not raw rows.
    const store = await import("../dist/store/digest-papers.js").catch(() => import("../dist/store/digests.js"));
    const items = store.publishedPapers(db, 1000);
    const meta = {
      paperUrl: (slug) => `http://127.0.0.1/papers/${slug}`, siteUrl: "http://localhost/", feedUrl: "http://localhost/feed.xml", updated: new Date() };
    for (const n of [100, 1000]) console.log(`feed render, ${String(n).padStart(4)} items: ${median(() => renderFeed(meta, items.slice(0, n))).toFixed(1)} ms`);

    const app = createApp({ db, config, clock: { now: () => new Date() } });
    await new Promise((r) => app.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${app.address().port}`;
    const etag = (await fetch(`${base}/feed.xml`)).headers.get("etag");
    const full = await load(`${base}/feed.xml`);
    console.log(`/feed.xml 200: ${full.perSecond.toFixed(0)} req/s, p50 ${full.p50.toFixed(2)} ms, p99 ${full.p99.toFixed(2)} ms (16 connections, ${SECONDS} s, ${config.feedItems} items)`);
    const cached = await load(`${base}/feed.xml`, [`if-none-match:${etag}`]);
    console.log(`/feed.xml 304: ${cached.perSecond.toFixed(0)} req/s, p50 ${cached.p50.toFixed(2)} ms, p99 ${cached.p99.toFixed(2)} ms`);
    const home = await load(`${base}/`);
    console.log(`/ (front page): ${home.perSecond.toFixed(0)} req/s, p50 ${home.p50.toFixed(2)} ms, p99 ${home.p99.toFixed(2)} ms`);
    for (const r of [full, cached, home]) if (Object.keys(r.statuses).some((s) => !["200", "304"].includes(s))) throw new Error(`unexpected statuses ${JSON.stringify(r.statuses)}`);
    app.closeAllConnections();
    app.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
