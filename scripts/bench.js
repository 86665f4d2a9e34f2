// `npm run bench`: prints the figures the issues ask for. Run after `npm run build`.
import { benchIngest } from "./bench-ingest.js";
import { benchSend } from "./bench-send.js";

const only = process.argv[2];
const benches = { ingest: benchIngest, send: benchSend };
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`\n== ${name}`);
  await run();
}
