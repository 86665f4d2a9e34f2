// Digest planning benchmark: freezing a daily digest with 100,000 papers stored over
// 2,000 list days; the first freeze after a backfill (which expires the old days; the
// median over copies of the same database) and a steady-state freeze after one new day.
// BENCH_ROOT=dir runs another checkout's dist/.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildSyntheticDump } from "./bench-ingest.js";

const ROOT = resolve(process.env.BENCH_ROOT ?? new URL("..", import.meta.url).pathname);
const load = (module) => import(pathToFileURL(join(ROOT, "dist", module)).href);

const DAYS = 2_000;
const PER_DAY = 50;

function dayAfter(start, n) {
  return new Date(Date.parse(start) + n * 86_400_000).toISOString().slice(0, 10);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function ms(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function benchDigest() {
  const { loadConfig } = await load("config/load.js");
  const { openDatabase } = await load("store/db.js");
  const { upsertPapers } = await load("store/paper-writer.js");
  const { freezeEdition } = await load("digest/editions.js");
  const { parseDump } = await load("dump/parse.js");
  const dir = mkdtempSync(join(tmpdir(), "papermail-bench-digest-"));
  try {
    const config = loadConfig({ PAPERMAIL_DB: join(dir, "bench.db") }, dir);
    let db = openDatabase(config.dbPath);
    const { papers: shapes } = parseDump(buildSyntheticDump(400_000).text, { capturedAt: new Date() });
    const paper = (i) => {
      const p = shapes[i % shapes.length];
      return { ...p, key: `${p.key}-${i}`, slug: `${p.slug}-${i}`, title: `${p.title} (${i})`, upvotes: (i * 7919) % 500 };
    };
    const ingestDay = (d) => {
      const day = dayAfter("2019-01-01", d);
      db.prepare("INSERT INTO dumps (sha256, path, size, mtime_ms, status, ingested_at) VALUES (?, ?, 0, 0, 'ingested', '')").run(`d${d}`, `d${d}`);
      const dumpId = db.prepare("SELECT max(id) AS id FROM dumps").get().id;
      const batch = Array.from({ length: PER_DAY }, (_, k) => paper(d * PER_DAY + k));
      upsertPapers(db, batch, { capturedAt: `${day}T23:00:00Z`, seenAt: `${day}T23:00:00Z`, dumpId, listDay: day });
    };
    let t0 = process.hrtime.bigint();
    db.transaction(() => {
      for (let d = 0; d < DAYS; d++) ingestDay(d);
    })();
    console.log(`store ${(DAYS * PER_DAY).toLocaleString("en")} papers over ${DAYS} list days: ${ms(t0).toFixed(0)} ms`);
    const options = (at) => ({ edition: "daily", maxPapers: 30, at, subject: (papers) => `${papers.length} papers` });
    const now = (d) => `${dayAfter("2019-01-01", d + 1)}T06:00:00Z`;
    // One freeze is one sample: repeat it on copies of the backfilled database.
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    const firsts = [];
    for (let r = 0; r < 7; r++) {
      const copy = join(dir, `copy-${r}.db`);
      copyFileSync(config.dbPath, copy);
      db = openDatabase(copy);
      globalThis.gc?.();
      t0 = process.hrtime.bigint();
      if (freezeEdition(db, options(now(DAYS - 1))) === undefined) throw new Error("the first freeze made no digest");
      firsts.push(ms(t0));
      if (r < 6) {
        db.close();
        rmSync(copy, { force: true });
      }
    }
    console.log(`first digest after the backfill, median of ${firsts.length}: ${median(firsts).toFixed(1)} ms${process.env.BENCH_VERBOSE ? ` (${firsts.map((f) => f.toFixed(1)).join(", ")})` : ""}`);
    const steady = [];
    for (let d = DAYS; d < DAYS + Number(process.env.BENCH_STEADY ?? 15); d++) {
      db.transaction(() => ingestDay(d))();
      t0 = process.hrtime.bigint();
      if (freezeEdition(db, options(now(d))) === undefined) throw new Error(`day ${d} made no digest`);
      steady.push(ms(t0));
    }
    console.log(`next digest after one new day, median of ${steady.length}: ${median(steady).toFixed(2)} ms`);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchDigest();
