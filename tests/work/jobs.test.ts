import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSyntheticDump } from "../../scripts/bench-ingest.js";
import { tempDir } from "../helpers/files.js";
import { spawnCli } from "../helpers/cli.js";

describe("serve runs its jobs off the site's event loop", () => {
  it("answers /healthz while the scheduler ingests a folder of dumps", async () => {
    const cwd = tempDir();
    const dumps = join(cwd, "dumps");
    mkdirSync(dumps);
    // Files under the size that gets worker threads of their own: before, they were parsed,
    // stored and indexed on the event loop that answers the site.
    const { text } = buildSyntheticDump(8e6);
    for (let i = 0; i < 6; i++) writeFileSync(join(dumps, `capture-2024-12-${10 + i}.txt`), text.replace("Dec 12", `Dec ${10 + i}`).replaceAll("Synthetic Study", `Study ${i}`));
    const child = spawnCli(["serve"], { cwd, env: { PAPERMAIL_DUMPS_DIR: dumps, PAPERMAIL_PORT: "0", PAPERMAIL_PUBLIC_URL: "https://papers.example.org" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const look = () => {
          const m = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
          if (m) resolve(Number(m[1]));
        };
        child.stdout.on("data", look);
        child.stderr.on("data", look);
        child.once("exit", () => reject(new Error(`serve stopped: ${out}`)));
      });
      const ingested = () => /ingest: 6 file\(s\), 6 ingested/.test(out);
      let answeredDuringIngest = 0;
      while (!ingested()) {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(r.status).toBe(200);
        await r.text();
        if (!ingested()) answeredDuringIngest++;
      }
      // The site answered many times while 48 MB of dumps were parsed, stored and indexed.
      expect(answeredDuringIngest).toBeGreaterThan(5);
      expect(out).toMatch(/ingest: 6 file\(s\), 6 ingested, 0 unchanged, 0 rejected/);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }, 120_000);
});
