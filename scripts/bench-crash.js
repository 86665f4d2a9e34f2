// Kills: `send-digest` killed with SIGKILL mid-send, five times, against a local SMTP
// sink; after each, the next run recovers the killed sender's rows. Figure: rows left
// `unknown` per kill, against the pool size (the most that can be in flight).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { startSink } from "./bench-send.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const SAMPLE = fileURLToPath(new URL("../samples/000_8c28b59a6efcc713.txt", import.meta.url));

export async function benchCrash() {
  const sink = await startSink();
  const dir = mkdtempSync(join(tmpdir(), "papermail-bench-crash-"));
  const env = { ...process.env, PAPERMAIL_SMTP_URL: sink.url, PAPERMAIL_PUBLIC_URL: "https://papers.example.org", PAPERMAIL_DUMPS_DIR: join(dir, "dumps") };
  const cli = (args, input) => execFileSync(process.execPath, [CLI, ...args], { cwd: dir, env, input, stdio: ["pipe", "pipe", "ignore"] });
  try {
    const readers = Number(process.env.BENCH_CRASH_READERS ?? 60000);
    cli(["subscribers", "import", "-", "--confirmed"], Array.from({ length: readers }, (_, i) => `reader${i}@example.org`).join("\n"));
    cli(["ingest", SAMPLE]);
    const kills = 5;
    const dbFile = join(dir, "var", "papermail.db");
    for (let k = 0; k < kills; k++) {
      // Each run first recovers the rows of the one killed before it, then sends on.
      const child = spawn(process.execPath, [CLI, "send-digest"], { cwd: dir, env, stdio: "ignore" });
      await new Promise((r) => setTimeout(r, 3000));
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
      // Its lease goes stale at once, as it would after its expiry.
      const db = new Database(dbFile);
      db.prepare("DELETE FROM senders").run();
      db.close();
    }
    try {
      cli(["send-digest"]);
    } catch (err) {
      // Exit 1: the run finished with unknown rows, which is what is measured.
      if (err.status !== 1) throw err;
    }
    const db = new Database(dbFile, { readonly: true });
    const counts = Object.fromEntries(db.prepare("SELECT status, count(*) AS n FROM deliveries GROUP BY status").all().map((r) => [r.status, r.n]));
    db.close();
    const pool = Number(process.env.PAPERMAIL_SMTP_POOL ?? 16);
    console.log(
      `kill -9 mid-send, ${kills} times, ${readers} readers, pool ${pool}: ${counts.unknown ?? 0} rows unknown in all = ${((counts.unknown ?? 0) / kills).toFixed(1)} per kill ` +
        `(up to ${pool} are in flight at a kill); ${counts.sent ?? 0} sent`,
    );
  } finally {
    sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
