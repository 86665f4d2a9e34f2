// The site's latency while `serve` works: 16 connections on / and /healthz against a real
// `serve` process while it (a) ingests a 100 MB dump, (b) reads 50 hostile bounces from an
// IMAP server (Dovecot), (c) fetches a 50 MB answer of nested arrays, (d) answers 80
// concurrent wrong console logins. Prints p50, p99 and the slowest request of each, and
// the serve process's peak memory. BENCH_ROOT=DIR runs another checkout's build.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSyntheticDump } from "./bench-ingest.js";
import { hasDovecot, startDovecot } from "./dovecot.js";

const ROOT = resolve(process.env.BENCH_ROOT ?? fileURLToPath(new URL("..", import.meta.url)));
const CLI = join(ROOT, "dist", "cli.js");
const LOAD = fileURLToPath(new URL("./load-until.js", import.meta.url));
/** How long a job may take before the figures are taken anyway (an old build can read a hostile bounce for minutes). */
const CAP_MS = Number(process.env.BENCH_LATENCY_CAP_S ?? 180) * 1000;
const PASSWORD = "correct horse battery staple";

/** Runs `serve` with `env`, loads it while `work` runs, and returns the figures. */
async function scenario(name, env, work, options = { settle: true }) {
  const dir = mkdtempSync(join(tmpdir(), "papermail-bench-latency-"));
  mkdirSync(join(dir, "dumps"), { recursive: true });
  const serve = spawn(process.execPath, [CLI, "serve"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, PAPERMAIL_PORT: "0", PAPERMAIL_PUBLIC_URL: "https://papers.example.org", PAPERMAIL_DUMPS_DIR: join(dir, "dumps"), ...env(dir) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  serve.stdout.on("data", (c) => (log += c));
  serve.stderr.on("data", (c) => (log += c));
  const until = (re, ms = CAP_MS) =>
    new Promise((done) => {
      const t = setInterval(() => {
        if (re.test(log)) finish(true);
      }, 20);
      const cap = setTimeout(() => finish(false), ms);
      function finish(ok) {
        clearInterval(t);
        clearTimeout(cap);
        done(ok);
      }
    });
  try {
    if (!(await until(/serving http:\/\/127\.0\.0\.1:\d+\//, 60_000))) throw new Error(`serve did not start:\n${log}`);
    const base = `http://127.0.0.1:${/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(log)[1]}`;
    // Measured once the jobs are up (their first ingest of an empty folder done), unless starting them is the work.
    if (options.settle) await until(/ingest: \d+ file\(s\)/, 60_000);
    const load = spawn(process.execPath, [LOAD, base, "16", "/", "/healthz"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    load.stdout.on("data", (c) => (out += c));
    // Warm connections first: the figures cover the work, not the first handshakes.
    await new Promise((r) => setTimeout(r, 1000));
    load.stdin.write("start\n");
    const started = Date.now();
    const finished = await work({ base, until, log: () => log });
    const seconds = (Date.now() - started) / 1000;
    load.stdin.end();
    await new Promise((r) => load.once("exit", r));
    const figures = JSON.parse(out);
    const peak = peakRss(serve.pid);
    const verdict = figures.p99 < 50 && figures.max < 250 && peak < 500 ? "meets" : "misses";
    console.log(
      `${name.padEnd(44)} p50 ${figures.p50.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms, slowest ${figures.max.toFixed(0)} ms over ${figures.requests} requests in ${seconds.toFixed(1)} s; ` +
        `peak memory ${peak} MB${finished ? "" : ` (the job was still running after ${CAP_MS / 1000} s)`}   ${verdict} p99 < 50 ms, none > 250 ms, < 500 MB`,
    );
  } finally {
    serve.kill("SIGKILL");
    await new Promise((r) => serve.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest resident memory of a process so far, in MB (Linux). */
function peakRss(pid) {
  try {
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

/** Bounces built to be slow to read: runs of blank lines, huge References, tag soup, and one of 40 MB. */
function hostileBounces() {
  const head = (extra = "") => `From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <${Math.random()}@mx>\r\n${extra}`;
  const out = [];
  for (let i = 0; i < 16; i++) out.push(`${head()}Content-Type: text/plain\r\n\r\n${"\n".repeat(32 * 1024)}`);
  for (let i = 0; i < 16; i++) out.push(`${head(`In-Reply-To: ${"a@".repeat(50 * 1024)}b x<\r\n`)}Content-Type: text/plain\r\n\r\nfailed\r\n`);
  for (let i = 0; i < 17; i++) out.push(`${head()}Content-Type: text/html\r\n\r\n${"<style".repeat(20 * 1024)}`);
  out.push(`${head()}Content-Type: text/plain\r\n\r\n${"x".repeat(40 * 1024 * 1024)}`);
  return out;
}

export async function benchLatency() {
  console.log(`build: ${ROOT}`);
  // (a) a 100 MB dump, found at start.
  const dump = buildSyntheticDump(Number(process.env.BENCH_DUMP_MB ?? 100) * 1e6).text;
  await scenario(
    "(a) ingesting a 100 MB dump",
    (dir) => {
      writeFileSync(join(dir, "dumps", "synthetic-2024-12-20.txt"), dump);
      return {};
    },
    ({ until }) => until(/ingest: \d+ file\(s\)/),
    { settle: false },
  );

  // (b) 50 hostile bounces in the bounce mailbox, read every second.
  if (hasDovecot()) {
    const imapDir = mkdtempSync(join(tmpdir(), "papermail-bench-imap-"));
    const imap = await startDovecot(imapDir);
    try {
      for (const raw of hostileBounces()) imap.deliver(raw);
      await scenario(
        "(b) reading 50 hostile bounces over IMAP",
        () => ({ PAPERMAIL_BOUNCE_MAILBOX: imap.url, PAPERMAIL_BOUNCE_CA_FILE: imap.caFile, PAPERMAIL_BOUNCE_CRON: "* * * * * *" }),
        ({ until }) => until(/bounces: \d+ message\(s\)/),
      );
    } finally {
      imap.stop();
      rmSync(imapDir, { recursive: true, force: true });
    }
  } else console.log("(b) reading 50 hostile bounces over IMAP: skipped (needs Debian's dovecot-imapd)");

  // (c) a 49 MB answer of nested arrays from the daily_papers API.
  const chunk = Buffer.alloc(64 * 1024, "[");
  const api = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    let left = 49 * 1024 * 1024;
    const next = () => {
      while (left > 0 && !res.destroyed) {
        left -= chunk.length;
        if (!res.write(chunk)) return void res.once("drain", next);
      }
      res.end();
    };
    res.on("close", () => (left = 0));
    next();
  });
  await new Promise((r) => api.listen(0, "127.0.0.1", r));
  try {
    await scenario(
      "(c) fetching a 50 MB answer of nested arrays",
      () => ({ PAPERMAIL_HF_API_URL: `http://127.0.0.1:${api.address().port}/api/daily_papers`, PAPERMAIL_FETCH_CRON: "* * * * * *" }),
      ({ until }) => until(/fetch: \S+ failed/),
    );
  } finally {
    api.closeAllConnections();
    api.close();
  }

  // (d) 80 wrong console logins at once.
  const { hashPassword } = await import(join(ROOT, "dist", "server", "admin", "auth.js"));
  const hash = hashPassword(PASSWORD);
  await scenario(
    "(d) 80 concurrent wrong console logins",
    () => ({ PAPERMAIL_ADMIN_PASSWORD_HASH: hash }),
    async ({ base }) => {
      const form = await fetch(`${base}/admin/login`);
      const cookie = form.headers.getSetCookie()[0].split(";")[0];
      const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())[1];
      const body = new URLSearchParams({ csrf, password: "wrong guess" }).toString();
      await Promise.all(
        Array.from({ length: 80 }, () =>
          fetch(`${base}/admin/login`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body }).then((r) => r.text()),
        ),
      );
      return true;
    },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLatency();
