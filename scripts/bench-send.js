// Send benchmark: a 30-paper digest to 10,000 and 100,000 subscribers through pooled
// connections to a local SMTP sink that discards what it gets.
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const WORKER = fileURLToPath(new URL("./bench-send-worker.js", import.meta.url));

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function hasSmtpSink() {
  try {
    execFileSync("sh", ["-c", "command -v smtp-sink"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Postfix's smtp-sink (C, fast) when installed; else smtp-server in its own process. */
export async function startSink() {
  const port = await freePort();
  const sink = hasSmtpSink()
    ? spawn("smtp-sink", ["-u", "nobody", "-c", `127.0.0.1:${port}`, "256"], { stdio: "ignore" })
    : spawn(process.execPath, ["-e", `
        const { SMTPServer } = require("smtp-server");
        new SMTPServer({ disabledCommands: ["STARTTLS", "AUTH"], logger: false,
          onData(s, _x, cb) { s.on("data", () => {}); s.on("end", () => cb()); } }).listen(${port}, "127.0.0.1");`], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  return { url: `smtp://127.0.0.1:${port}`, name: hasSmtpSink() ? "smtp-sink (postfix)" : "smtp-server (node)", stop: () => sink.kill() };
}

function run(subscribers, url, env = {}) {
  // Start from a quiet disk: earlier benchmarks' writeback is not this one's cost.
  try {
    execFileSync("sync");
  } catch {
    // no sync(1)
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", WORKER, String(subscribers), url], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
  });
}

/** Postfix's smtp-source pushing `count` messages of `bytes` over 10 reused sessions: the yardstick. */
function smtpSource(url, count, bytes) {
  const { hostname: host, port } = new URL(url);
  const started = process.hrtime.bigint();
  execFileSync("smtp-source", ["-d", "-s", "10", "-m", String(count), "-l", String(bytes), "-f", "bench@example.org", "-t", "reader@example.org", `${host}:${port}`], { stdio: "ignore" });
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

function line(r) {
  return (
    `${String(r.subscribers).padStart(7)} subscribers: ${r.perSecond.toFixed(0)} messages/s, ${r.cpuMsPerMessage.toFixed(3)} ms sender CPU/message, ` +
    `peak while sending: RSS ${r.peakRssDuringSendMb.toFixed(0)} MB (${r.rssBeforeSendMb.toFixed(0)} MB before), JS heap ${r.peakHeapDuringSendMb.toFixed(0)} MB ` +
    `(${r.seconds.toFixed(1)} s, pool ${r.pool}, ${(r.messageBytes / 1024).toFixed(0)} KB messages)`
  );
}

export async function benchSend() {
  const sink = await startSink();
  try {
    console.log(`sink: ${sink.name}; pool ${process.env.BENCH_POOL ?? "PAPERMAIL_SMTP_POOL's default"}; targets: >= 1.0x smtp-source -d -s 10, <= 0.25 ms CPU/message`);
    let last;
    for (const n of (process.env.BENCH_SUBSCRIBERS ?? "10000,100000").split(",").map(Number)) {
      last = await run(n, sink.url);
      console.log(line(last));
    }
    // Readers with their own choices: 100,000 over 1,000 groups against the same count in one group,
    // in alternating pairs (the machine's speed drifts from one minute to the next), judged by the median pair.
    if (!process.env.BENCH_SKIP_GROUPS) {
      const n = Number(process.env.BENCH_GROUP_SUBSCRIBERS ?? 100000);
      const pairs = Number(process.env.BENCH_GROUP_PAIRS ?? 3);
      const rates = [];
      const rss = [];
      for (let i = 0; i < pairs; i++) {
        const single = await run(n, sink.url);
        const grouped = await run(n, sink.url, { BENCH_GROUPS: "1000" });
        rates.push(grouped.perSecond / single.perSecond);
        rss.push(grouped.peakRssDuringSendMb / single.peakRssDuringSendMb - 1);
        const figures = (r) => `${r.perSecond.toFixed(0)} messages/s, ${r.cpuMsPerMessage.toFixed(3)} ms CPU/message, peak RSS ${r.peakRssDuringSendMb.toFixed(0)} MB, JS heap ${r.peakHeapDuringSendMb.toFixed(0)} MB`;
        console.log(`${n} subscribers, pair ${i + 1}: one group ${figures(single)}; 1000 groups ${figures(grouped)}`);
      }
      const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      console.log(
        `1000 groups vs one, median of ${pairs} alternating pairs: ${median(rates).toFixed(2)}x the rate (${rates.map((r) => r.toFixed(2)).join(", ")})   target >= 0.90; ` +
          `peak RSS while sending ${(median(rss) * 100).toFixed(1)}% (${rss.map((r) => `${(r * 100).toFixed(1)}%`).join(", ")})   target within 10%`,
      );
    }
    if (!process.env.BENCH_SKIP_SERVE) {
      // The site with /metrics and the console scraped every second in the sending process (as under `serve`), against none: alternating runs.
      const n = Number(process.env.BENCH_SERVE_SUBSCRIBERS ?? 20000);
      const plain = [];
      const served = [];
      for (let i = 0; i < 2; i++) {
        plain.push(await run(n, sink.url));
        served.push(await run(n, sink.url, { BENCH_SERVE: "1" }));
      }
      const rate = (runs) => runs.reduce((a, r) => a + r.perSecond, 0) / runs.length;
      const cpu = (runs) => runs.reduce((a, r) => a + r.cpuMsPerMessage, 0) / runs.length;
      console.log(
        `send of ${n} with /metrics and the console scraped every second: ${rate(served).toFixed(0)} messages/s, ${cpu(served).toFixed(3)} ms CPU/message; ` +
          `without: ${rate(plain).toFixed(0)} messages/s, ${cpu(plain).toFixed(3)} ms = ${(rate(served) / rate(plain)).toFixed(2)}x (two runs each, alternating)`,
      );
    }
    if (hasSmtpSink()) {
      // The same number of same-size messages into the same sink, from Postfix's C load generator.
      const n = Math.min(last.subscribers, 20000);
      const ours = last.subscribers === n ? last : await run(n, sink.url);
      const theirs = smtpSource(sink.url, n, ours.messageBytes);
      console.log(`smtp-source -d -s 10, ${n} messages of ${(ours.messageBytes / 1024).toFixed(0)} KB: ${theirs.toFixed(0)} messages/s; papermail ${ours.perSecond.toFixed(0)}/s = ${(ours.perSecond / theirs).toFixed(2)}x   target >= 1.0x`);
    }
    // DKIM: the same run signed and unsigned.
    const { generateKeyPairSync } = await import("node:crypto");
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const keyFile = `${mkdtempSync(`${tmpdir()}/papermail-dkim-`)}/key.pem`;
    writeFileSync(keyFile, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }));
    console.log(await compareDkimSigners(keyFile));
    const unsigned = await run(5000, sink.url);
    const signed = await run(5000, sink.url, { BENCH_DKIM_KEY: keyFile });
    console.log(`DKIM (RSA-2048), 5000 readers: ${signed.perSecond.toFixed(0)} messages/s signed vs ${unsigned.perSecond.toFixed(0)} unsigned = ${(signed.perSecond / unsigned.perSecond).toFixed(2)}, ${signed.cpuMsPerMessage.toFixed(3)} ms CPU/message   target >= 0.60`);
    if (!process.env.BENCH_SKIP_RATE) {
      // A rate limit over a 60 s window; an unlimited run never reaches the limiter's code.
      const rate = Number(process.env.BENCH_RATE_LIMIT ?? 100);
      const limited = await run(rate * 60, sink.url, { BENCH_RATE: String(rate) });
      const achieved = limited.subscribers / limited.seconds;
      console.log(`PAPERMAIL_SMTP_RATE=${rate}: ${achieved.toFixed(1)} messages/s over ${limited.seconds.toFixed(1)} s = ${((achieved / rate - 1) * 100).toFixed(1)}% off the limit   target within 5%`);
    }
  } finally {
    sink.stop();
  }
}

/**
 * Signing cost per message of papermail's signer and nodemailer's DKIM module, on the
 * same 30-paper digest message and key: which to keep is a measured choice.
 */
export async function compareDkimSigners(keyFile) {
  const { readFileSync } = await import("node:fs");
  const { createDkimSigner } = await import("../dist/deliver/transport/dkim.js");
  const { default: DKIM } = await import("nodemailer/lib/dkim");
  const { buildSimpleMessage } = await import("../dist/render/simple-message.js");
  const privateKey = readFileSync(keyFile, "utf8");
  const options = { domainName: "example.org", keySelector: "bench", privateKey };
  const body = "<p>" + "A paper title and its abstract, as a digest carries thirty of them. ".repeat(700) + "</p>";
  const [message] = await buildSimpleMessage({ from: "bench@example.org", to: "reader@example.org", subject: "bench", html: body, text: body, date: new Date() });
  const ours = createDkimSigner(options);
  const theirs = new DKIM(options);
  const time = async (n, sign) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await sign();
    return Number(process.hrtime.bigint() - t0) / 1e6 / n;
  };
  const drain = (stream) => new Promise((resolve, reject) => {
    const parts = [];
    stream.on("data", (c) => parts.push(c)).on("end", () => resolve(Buffer.concat(parts))).on("error", reject);
  });
  await time(50, () => ours([message]));
  await time(50, () => drain(theirs.sign(message)));
  const oursMs = await time(1000, () => ours([message]));
  const theirsMs = await time(1000, () => drain(theirs.sign(message)));
  return `DKIM signers, ${(message.length / 1024).toFixed(0)} KB message: papermail's ${oursMs.toFixed(3)} ms/message, nodemailer's ${theirsMs.toFixed(3)} ms/message = ${(theirsMs / oursMs).toFixed(2)}x ours (papermail keeps the faster)`;
}
