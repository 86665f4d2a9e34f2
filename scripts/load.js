// A small HTTP load generator for loopback benchmarks: keep-alive connections,
// a fixed duration, requests/s and latency percentiles as JSON on stdout.
// Usage: node scripts/load.js URL SECONDS CONNECTIONS [HEADER:VALUE ...]
import http from "node:http";

const [url, seconds = "5", connections = "16", ...headerArgs] = process.argv.slice(2);
const headers = Object.fromEntries(headerArgs.map((h) => [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1)]));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connections) });
const until = Date.now() + Number(seconds) * 1000;
const latencies = [];
const statuses = {};

function one() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    http
      .get(url, { agent, headers }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          resolve();
        });
      })
      .on("error", () => resolve());
  });
}

async function loop() {
  while (Date.now() < until) await one();
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(connections) }, loop));
const elapsed = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(JSON.stringify({ requests: latencies.length, perSecond: latencies.length / elapsed, p50: pct(50), p99: pct(99), statuses }));
agent.destroy();
