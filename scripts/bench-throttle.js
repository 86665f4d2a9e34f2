// Throttling storm: a relay that answers every message "454 Throttling failure" for
// 40 s in the middle of a send, then accepts again. Figures: the rate before the
// storm, and how long after the storm the run is back to at least half that rate.
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./bench-send.js";

const WORKER = fileURLToPath(new URL("./bench-send-worker.js", import.meta.url));

/** smtp-server in its own process, refusing every recipient with 454 between `from` and `to` (epoch ms). */
async function stormyRelay(from, to) {
  const port = await freePort();
  const relay = spawn(process.execPath, ["-e", `
    const { SMTPServer } = require("smtp-server");
    new SMTPServer({ disabledCommands: ["STARTTLS", "AUTH"], logger: false,
      onRcptTo(_a, _s, cb) {
        const now = Date.now();
        if (now >= ${from} && now < ${to}) return cb(Object.assign(new Error("Throttling failure: Maximum sending rate exceeded."), { responseCode: 454 }));
        cb();
      },
      onData(s, _x, cb) { s.on("data", () => {}); s.on("end", () => cb()); } }).listen(${port}, "127.0.0.1");`], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  return { url: `smtp://127.0.0.1:${port}`, stop: () => relay.kill() };
}

export async function benchThrottle() {
  const stormSeconds = Number(process.env.BENCH_STORM_S ?? 40);
  const readers = Number(process.env.BENCH_STORM_READERS ?? 30000);
  // The storm starts 8 s after launch: the worker's setup takes a few seconds, then it sends at full speed.
  const launch = Date.now();
  const from = launch + 8000;
  const to = from + stormSeconds * 1000;
  const relay = await stormyRelay(from, to);
  try {
    execFileSync("sync");
    const result = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--expose-gc", WORKER, String(readers), relay.url], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BENCH_TIMELINE: "1" } });
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
    });
    const perTick = new Map(result.timeline);
    const ticks = [...perTick.keys()].sort((a, b) => a - b);
    const perSecondAt = (ms) => {
      let n = 0;
      for (let t = Math.floor(ms / 100); t < Math.floor(ms / 100) + 10; t++) n += perTick.get(t) ?? 0;
      return n;
    };
    // The rate before: the full seconds between the first message and the storm.
    const first = ticks[0] * 100;
    const beforeSeconds = (from - first) / 1000 - 1;
    let before = 0;
    for (const t of ticks) if (t * 100 >= first + 500 && t * 100 < from - 500) before += perTick.get(t);
    const beforeRate = before / beforeSeconds;
    const during = ticks.filter((t) => t * 100 >= from + 1000 && t * 100 < to).reduce((n, t) => n + perTick.get(t), 0);
    let back;
    for (let at = to; at < to + 120_000; at += 100) {
      if (perSecondAt(at) >= beforeRate / 2) {
        back = (at + 1000 - to) / 1000;
        break;
      }
    }
    console.log(
      `throttling storm of ${stormSeconds} s (454 for every recipient), ${readers} readers, pool ${result.pool}: ${beforeRate.toFixed(0)} messages/s before; ` +
        `${during} accepted during it${result.stopped ? ` (stopped: ${result.stopped})` : ""}; back to half that rate ${back === undefined ? "not within 120 s" : `${back.toFixed(1)} s after it ended`}   target <= 30 s`,
    );
  } finally {
    relay.stop();
  }
}
