// Search benchmark: 100,000 stored papers over 2,000 list days, added to the search
// index in bulk, then queries a reader would type: the median answer time of each
// (first page of 20, with its total and marked words). The papers are the samples'
// real sentences and title words recombined: each one different, with the word
// frequencies of real abstracts (the ingest benchmark's dump repeats a few abstracts
// and gives every title the same words, which says nothing about a search).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDump } from "../dist/dump/parse.js";
import { openDatabase } from "../dist/store/db.js";
import { upsertPapers } from "../dist/store/paper-writer.js";
import { catchUpSearchIndex } from "../dist/store/search-index.js";
import { searchPapers } from "../dist/store/search.js";

const PAPERS = 100_000;
const QUERIES = [
  "speech",
  "diffusion model",
  "retrieval augmented generation",
  "multimodal large language models",
  "kyutai",
  "Schmidhuber",
  "reinforcement learning reasoning benchmark video",
  "zzzz quantum",
  '"unbalanced (quotes AND -- NEAR',
];

/** A small deterministic random generator, so that every run searches the same papers. */
function random(seed) {
  let x = seed;
  return () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 4294967296;
}

/** 100,000 papers from the samples' sentences, title words, authors and organisations. */
export function buildCorpus(count) {
  const samples = new URL("../samples/", import.meta.url);
  const real = readdirSync(samples)
    .filter((f) => f.endsWith(".txt"))
    .flatMap((f) => parseDump(readFileSync(new URL(f, samples), "utf8"), { capturedAt: new Date() }).papers);
  const sentences = real.flatMap((p) => (p.abstract ?? "").split(/(?<=\.)\s+/)).filter((x) => x.length > 40);
  const titleWords = real.flatMap((p) => p.title.split(/\s+/));
  const names = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Yann LeCun", "Fei-Fei Li", "Geoffrey Hinton", "Daphne Koller", "Yoshua Bengio", "Andrew Ng", "Jürgen Schmidhuber"];
  const orgs = ["Kyutai", "Hugging Face", "Meta AI", "Google DeepMind", "Allen Institute for AI", null, null, null];
  const rnd = random(42);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  return Array.from({ length: count }, (_, i) => {
    const title = Array.from({ length: 5 + Math.floor(rnd() * 6) }, () => pick(titleWords)).join(" ");
    const abstract = Array.from({ length: 5 + Math.floor(rnd() * 5) }, () => pick(sentences)).join(" ");
    const org = pick(orgs);
    return {
      line: 1, key: `bench paper ${i}`, slug: `bench-${i}`, title: `${title} ${i}`, abstract, authorsCount: null, orgHandle: org, orgName: org,
      publishedOn: null, upvotes: (i * 7919) % 500, links: [], codeUrl: null, authors: [pick(names), pick(names), pick(names)], keywords: null,
    };
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function benchSearch() {
  const dir = mkdtempSync(join(tmpdir(), "papermail-bench-search-"));
  try {
    const db = openDatabase(join(dir, "bench.db"));
    const corpus = buildCorpus(PAPERS);
    db.transaction(() => {
      for (let d = 0; d < PAPERS / 50; d++) {
        const day = new Date(Date.parse("2019-01-01") + d * 86_400_000).toISOString().slice(0, 10);
        upsertPapers(db, corpus.slice(d * 50, d * 50 + 50), { capturedAt: `${day}T23:00:00Z`, seenAt: `${day}T23:00:00Z`, dumpId: null, listDay: day });
      }
    })();
    const text = db.prepare("SELECT sum(length(title) + coalesce(length(abstract), 0)) AS n FROM papers").get().n;
    let t0 = performance.now();
    const added = catchUpSearchIndex(db);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`search index catch-up: ${added.toLocaleString("en")} papers, ${(text / 1e6).toFixed(0)} MB of text in ${seconds.toFixed(2)} s (${(text / 1e6 / seconds).toFixed(0)} MB/s)`);
    const slowest = [];
    for (const q of QUERIES) {
      const times = [];
      let result;
      for (let r = 0; r < 9; r++) {
        t0 = performance.now();
        result = searchPapers(db, q, { limit: 20, offset: 0 });
        times.push(performance.now() - t0);
      }
      slowest.push(median(times));
      console.log(`  ${JSON.stringify(q).padEnd(42)} ${`${result.total}${result.more ? "+" : ""}`.padStart(6)} found (${result.match}), median ${median(times).toFixed(1)} ms`);
    }
    console.log(`search over ${PAPERS.toLocaleString("en")} papers: slowest query's median ${Math.max(...slowest).toFixed(1)} ms   target < 20 ms`);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSearch();
