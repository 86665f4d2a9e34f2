// Send benchmark: a 30-paper digest to 10,000 and 100,000 subscribers through pooled
// connections to a local SMTP sink that discards what it gets.
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const WORKER = fileURLToPath(new URL("./bench-send-worker.js", import.meta.url));

function freePort() {
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
async function startSink() {
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

function run(subscribers, url) {
  // Start from a quiet disk: earlier benchmarks' writeback is not this one's cost.
  try {
    execFileSync("sync");
  } catch {
    // no sync(1)
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", WORKER, String(subscribers), url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
  });
}

export async function benchSend() {
  const sink = await startSink();
  try {
    console.log(`sink: ${sink.name}; pool of ${process.env.BENCH_POOL ?? 4} connections; baseline nodemailer ~250 msg/s, ~3 ms CPU/msg`);
    for (const n of (process.env.BENCH_SUBSCRIBERS ?? "10000,100000").split(",").map(Number)) {
      const r = await run(n, sink.url);
      console.log(
        `${String(n).padStart(7)} subscribers: ${r.perSecond.toFixed(0)} messages/s, ${r.cpuMsPerMessage.toFixed(3)} ms sender CPU/message, ` +
          `peak while sending: RSS ${r.peakRssDuringSendMb.toFixed(0)} MB (${r.rssBeforeSendMb.toFixed(0)} MB before), JS heap ${r.peakHeapDuringSendMb.toFixed(0)} MB ` +
          `(${r.seconds.toFixed(1)} s)   target >= 1000/s, <= 1 ms`,
      );
    }
  } finally {
    sink.stop();
  }
}
