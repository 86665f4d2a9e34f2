import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { CommandContext } from "../../src/context.js";
import { createScheduler } from "../../src/scheduler/scheduler.js";
import { openDatabase } from "../../src/store/db.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { spawnCli } from "../helpers/cli.js";
import { addressList, ledger, project, smtp } from "../helpers/project.js";

describe("send rates and quotas", () => {
  it("pauses at the daily limit with everyone queued, says when it resumes, and the scheduler resumes then", async () => {
    const server = await smtp();
    const p = project(server.url);
    Object.assign(p.env, { PAPERMAIL_SMTP_DAILY_LIMIT: "5" });
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(8));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const run = await p.cli(["send-digest", "--json"]);
    expect(run.code).toBe(1);
    const d = JSON.parse(run.stdout).digests[0];
    expect(d).toMatchObject({ sent: 5, queued: 3, failed: 0, stopReason: "quota" });
    expect(d.stopped).toMatch(/daily limit of 5 messages .* sending resumes at \d{4}-/);
    expect(ledger(p.db()).filter((r) => r.status === "failed")).toEqual([]);
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.sending).toMatchObject({ dailyLimit: 5, sentLast24h: 5, quotaResumesAt: d.quotaUntil });
    expect(Date.parse(status.sending.estimatedDoneAt)).toBeGreaterThanOrEqual(Date.parse(d.quotaUntil));
    expect((await p.cli(["status"])).stdout).toMatch(/sending {6}no rate limit, 5 a day; 5 sent in the last 24 hours; daily limit reached until/);

    // The scheduler's retry job waits while the quota is used up, then finishes the digest.
    let now = Date.now() + 3600_000;
    const config = loadConfig(p.env, p.cwd);
    const ctx: CommandContext = { config, db: openDatabase(config.dbPath), clock: { now: () => new Date(now) }, out: () => undefined, err: () => undefined };
    const lines: string[] = [];
    const scheduler = createScheduler(ctx, (l) => lines.push(l));
    await scheduler.run("retry");
    expect(server.received).toHaveLength(5);
    now = Date.parse(d.quotaUntil) + 60_000;
    await scheduler.run("retry");
    expect(server.received).toHaveLength(8);
    expect(lines.join("\n")).toMatch(/retry: digest #1: .*3 sent|8 sent/);
  }, 60_000);

  it("holds the send rate across the pool's connections and two processes", async () => {
    const arrivals: number[] = [];
    const server = await smtp({ onMessage: () => arrivals.push(Date.now()) });
    const p = project(server.url);
    Object.assign(p.env, { PAPERMAIL_SMTP_RATE: "20", PAPERMAIL_SMTP_POOL: "4" });
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(40));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const runs = [spawnCli(["send-digest"], { cwd: p.cwd, env: p.env }), spawnCli(["send-digest"], { cwd: p.cwd, env: p.env })];
    await Promise.all(runs.map((c) => new Promise((r) => c.on("exit", r))));
    expect(server.received).toHaveLength(40);
    // 40 messages at 20 a second take 39 slots of 50 ms, whichever process sends them; connections
    // opening at the start can bunch a few slots, never more than the pool holds (1.75 s at
    // least), and a busy machine can hold back the first arrival a little. Unthrottled, the
    // 40 arrive within a fraction of a second.
    const span = (arrivals[39]! - arrivals[0]!) / 1000;
    expect(span).toBeGreaterThan(1.5);
    for (const t of arrivals) expect(arrivals.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(24);
  }, 60_000);
});

describe("the daily quota", () => {
  it("is used exactly: messages that never went out give their place back", async () => {
    const server = await smtp();
    const p = project(server.url);
    Object.assign(p.env, { PAPERMAIL_SMTP_DAILY_LIMIT: "50", PAPERMAIL_SMTP_POOL: "16" });
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(120));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const d = JSON.parse((await p.cli(["send-digest", "--json"])).stdout).digests[0];
    expect(d).toMatchObject({ sent: 50, queued: 70, stopReason: "quota" });
    expect(server.received).toHaveLength(50);
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).sending).toMatchObject({ sentLast24h: 50 });
  }, 60_000);

  it("counts only what the relay took: refusals and retries give their places back, even after others reach the limit", async () => {
    // Every seventh reader is refused for a while (450), every eleventh for good (550).
    const server = await smtp({ fault: (to) => (/^reader\d*(7|14|21|28|35|42|49|56)@/.test(to) ? "450" : /^reader\d*(11|22|33|44|55)@/.test(to) ? "550" : undefined) });
    const p = project(server.url);
    Object.assign(p.env, { PAPERMAIL_SMTP_DAILY_LIMIT: "50", PAPERMAIL_SMTP_POOL: "16" });
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(120));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const d = JSON.parse((await p.cli(["send-digest", "--json"])).stdout).digests[0];
    expect(d).toMatchObject({ sent: 50, stopReason: "quota" });
    expect(server.received).toHaveLength(50);
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).sending).toMatchObject({ sentLast24h: 50 });
  }, 60_000);
});
