// A load generator that runs until it is told to stop (SIGTERM, or its standard input
// closing): keep-alive connections taking turns over the given paths, then the latency
// of every request as JSON on stdout (p50, p99, the slowest, and how many). A line
// "start" on standard input forgets what came before: the connections are warm, the
// figures cover what follows.
// Usage: node scripts/load-until.js BASE_URL CONNECTIONS PATH [PATH ...]
import http from "node:http";

const [base, connections = "16", ...paths] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connections) });
const latencies = [];
const statuses = {};
let running = true;
const stop = () => (running = false);
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("data", (chunk) => {
  if (String(chunk).includes("start")) {
    latencies.length = 0;
    for (const k of Object.keys(statuses)) delete statuses[k];
  }
});

function one(path) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(base + path, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        resolve();
      });
    });
    req.on("error", () => {
      statuses.error = (statuses.error ?? 0) + 1;
      setTimeout(resolve, 10);
    });
  });
}

async function loop(k) {
  for (let i = k; running; i++) await one(paths[i % paths.length]);
}

await Promise.all(Array.from({ length: Number(connections) }, (_, k) => loop(k)));
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(JSON.stringify({ requests: latencies.length, p50: pct(50), p99: pct(99), max: latencies[latencies.length - 1] ?? 0, statuses }));
agent.destroy();
process.exit(0);
