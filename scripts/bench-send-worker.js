// One send benchmark run in its own process, so peak memory belongs to this size alone.
import { digestSubject } from "../dist/render/digest-view.js";
// Usage: node scripts/bench-send-worker.js SUBSCRIBERS SMTP_URL
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../dist/config/load.js";
import { openDatabase } from "../dist/store/db.js";
import { upsertPapers } from "../dist/store/paper-writer.js";
import { freezeEdition } from "../dist/digest/editions.js";
import { createMailer } from "../dist/deliver/transport/create-mailer.js";
import { deliverDigest } from "../dist/deliver/engine.js";
import { prepareDigestMessage } from "../dist/deliver/template-cache.js";
import { buildSyntheticDump } from "./bench-ingest.js";
import { parseDump } from "../dist/dump/parse.js";
import { systemClock } from "../dist/util/time.js";
import { keepShortLivedObjectsYoung } from "../dist/util/heap.js";

/** Starts the site (metrics, console) on the bench database and scrapes it every second. */
async function serveWhileSending(config) {
  const { createApp } = await import("../dist/server/app.js");
  const { createMetrics } = await import("../dist/metrics/registry.js");
  const token = "bench-metrics-token-0123456789";
  const served = { ...config, metricsToken: token, adminPassword: { plain: "bench console password" } };
  const siteDb = openDatabase(config.dbPath, { busyTimeoutMs: 100 });
  const app = createApp({ db: siteDb, config: served, clock: systemClock, metrics: createMetrics(siteDb, systemClock) });
  await new Promise((r) => app.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${app.address().port}`;
  // Log in once, as an operator with the console open would be.
  const loginPage = await fetch(`${base}/admin/login`);
  const loginCookie = loginPage.headers.getSetCookie()[0].split(";")[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(await loginPage.text())[1];
  const login = await fetch(`${base}/admin/login`, { method: "POST", redirect: "manual", headers: { cookie: loginCookie, "content-type": "application/x-www-form-urlencoded" }, body: `csrf=${csrf}&password=bench+console+password` });
  const session = login.headers.getSetCookie()[0].split(";")[0];
  let scrapes = 0;
  const timer = setInterval(() => {
    void Promise.all([
      fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()),
      fetch(`${base}/admin`, { headers: { cookie: session } }).then((r) => r.text()),
    ]).then(() => scrapes++);
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
      siteDb.close();
      if (scrapes === 0) throw new Error("the site was never scraped during the send");
    },
  };
}

// As `papermail send` runs (src/cli.ts).
keepShortLivedObjectsYoung();
const subscribers = Number(process.argv[2]);
const smtpUrl = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), "papermail-bench-send-"));
try {
  const env = { PAPERMAIL_DB: join(dir, "bench.db"), PAPERMAIL_SMTP_URL: smtpUrl };
  if (process.env.BENCH_POOL) env.PAPERMAIL_SMTP_POOL = process.env.BENCH_POOL;
  if (process.env.BENCH_RATE) env.PAPERMAIL_SMTP_RATE = process.env.BENCH_RATE;
  if (process.env.BENCH_DKIM_KEY) Object.assign(env, { PAPERMAIL_DKIM_DOMAIN: "example.org", PAPERMAIL_DKIM_SELECTOR: "bench", PAPERMAIL_DKIM_KEY_FILE: process.env.BENCH_DKIM_KEY });
  const config = loadConfig(env, dir);
  const db = openDatabase(config.dbPath);
  // 30 papers in the samples' shape, and the subscribers, inserted directly: setup is not what is measured.
  const { papers } = parseDump(buildSyntheticDump(60_000).text, { capturedAt: new Date() });
  db.prepare("INSERT INTO dumps (sha256, path, size, mtime_ms, status, ingested_at) VALUES ('x', 'x', 0, 0, 'ingested', '')").run();
  db.transaction(() => upsertPapers(db, papers.slice(0, 30), { capturedAt: "2024-12-20", seenAt: "2024-12-20", dumpId: 1, listDay: "2024-12-20" }))();
  // BENCH_GROUPS=n: readers spread over n distinct choices, one after another by id. Each
  // group's topics match all 30 papers ("study"), so every group renders a full 30-paper digest.
  const groups = Number(process.env.BENCH_GROUPS ?? 1);
  const add = db.prepare("INSERT INTO subscribers (email, status, created_at, topics) VALUES (?, 'active', '', ?)");
  db.transaction(() => {
    for (let i = 0; i < subscribers; i++) add.run(`reader${i}@example.org`, groups > 1 ? JSON.stringify(["study", `g${i % groups}`]) : "[]");
  })();
  const id = freezeEdition(db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: (papers, days) => digestSubject(papers.map((p) => p.title), days) });

  const mailer = createMailer(config, String(id));
  // The size of one message as it goes out, for a load generator to send the same.
  const template = await prepareDigestMessage(db, config, id);
  const messageBytes = Buffer.concat(template.personalise({ to: "reader0@example.org", messageId: "x@example.org", unsubscribeUrl: `${config.publicUrl}/unsubscribe/x` })).length;
  // Peak memory while sending, apart from setup: it must not grow with the subscriber count.
  globalThis.gc?.();
  const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
  let rssPeak = rssBefore;
  let heapPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  }, 50);
  // BENCH_SERVE=1: the site with its metrics and console runs in this process, as under `serve`,
  // and is scraped every second (/metrics and the console's overview) while the digest goes out.
  let served;
  if (process.env.BENCH_SERVE) served = await serveWhileSending(config);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // BENCH_TIMELINE=1: messages settled per 100 ms (epoch-aligned), for the throttling benchmark.
  const timeline = process.env.BENCH_TIMELINE ? new Map() : undefined;
  const report = await deliverDigest({ db, mailer, clock: systemClock, config, secret: "b".repeat(32), owner: "bench:1:1" }, id, {
    concurrency: config.smtpPool,
    limits: { rate: config.smtpRate, daily: config.smtpDailyLimit },
    onProgress: timeline ? () => timeline.set(Math.floor(Date.now() / 100), (timeline.get(Math.floor(Date.now() / 100)) ?? 0) + 1) : undefined,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  if (served) await served.stop();
  await mailer.close();
  db.close();
  if (report.sent !== subscribers && !process.env.BENCH_TIMELINE) throw new Error(`sent ${report.sent} of ${subscribers}: ${JSON.stringify(report)}`);
  process.stdout.write(
    JSON.stringify({
      subscribers,
      groups,
      pool: config.smtpPool,
      messageBytes,
      seconds,
      perSecond: subscribers / seconds,
      cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / subscribers,
      rssBeforeSendMb: rssBefore / 1e6,
      peakRssDuringSendMb: rssPeak / 1e6,
      heapBeforeSendMb: heapBefore / 1e6,
      peakHeapDuringSendMb: heapPeak / 1e6,
      timeline: timeline ? [...timeline] : undefined,
      stopped: report.stopped,
      sent: report.sent,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
