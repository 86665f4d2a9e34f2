// `npm run bench [ingest|digest|search|send|throttle|crash|server|latency]`: prints the figures the issues ask for (after `npm run build`).
import { benchIngest } from "./bench-ingest.js";
import { benchSend } from "./bench-send.js";
import { benchServer } from "./bench-server.js";
import { benchDigest } from "./bench-digest.js";
import { benchThrottle } from "./bench-throttle.js";
import { benchCrash } from "./bench-crash.js";
import { benchSearch } from "./bench-search.js";
import { benchLatency } from "./bench-latency.js";

const only = process.argv[2];
const benches = { ingest: benchIngest, digest: benchDigest, search: benchSearch, send: benchSend, throttle: benchThrottle, crash: benchCrash, server: benchServer, latency: benchLatency };
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`\n== ${name}`);
  await run();
}
