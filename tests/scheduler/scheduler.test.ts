import { waitFor } from "../helpers/wait.js";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { CommandContext } from "../../src/commands/context.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { createScheduler } from "../../src/scheduler/scheduler.js";
import { previousSlot } from "../../src/scheduler/slots.js";
import { openDatabase } from "../../src/store/db.js";
import { writeSetting } from "../../src/store/settings.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { join } from "node:path";
import { context, project } from "../helpers/project.js";

function setup(now: Date) {
  const cwd = tempDir();
  let t = now.getTime();
  const clock = { now: () => new Date(t), set: (d: Date) => (t = d.getTime()) };
  const config = loadConfig({ PAPERMAIL_PUBLIC_URL: "https://papers.example.org", PAPERMAIL_DIGEST_CRON: "0 8 * * *", PAPERMAIL_TZ: "Europe/Paris", PAPERMAIL_DUMPS_DIR: SAMPLE_FILES[0]!.replace(/\/[^/]+$/, "") }, cwd);
  const ctx: CommandContext = { config, db: openDatabase(config.dbPath), clock, out: () => undefined, err: () => undefined };
  const lines: string[] = [];
  return { ctx, clock, lines, scheduler: createScheduler(ctx, (l) => lines.push(l)) };
}

const digests = (ctx: CommandContext, edition = "daily") => (ctx.db.prepare("SELECT count(*) AS n FROM digests WHERE edition = ?").get(edition) as { n: number }).n;

describe("the scheduler", () => {
  it("finds the latest digest slot in the configured time zone", () => {
    expect(previousSlot("0 8 * * *", "Europe/Paris", new Date("2026-07-02T05:00:00Z"))?.toISOString()).toBe("2026-07-01T06:00:00.000Z");
    expect(previousSlot("0 8 * * *", "Europe/Paris", new Date("2026-12-02T09:00:00Z"))?.toISOString()).toBe("2026-12-02T07:00:00.000Z");
  });

  it("publishes a digest missed while the service was down once, not once per missed slot", async () => {
    const { ctx, clock, scheduler, lines } = setup(new Date("2026-03-10T12:00:00Z"));
    await ingestFile(ctx, SAMPLE_FILES[0]!);
    // The service last ran a digest three days ago; three 08:00 slots passed since.
    writeSetting(ctx.db, "scheduler_started_at", "2026-03-01T00:00:00.000Z");
    writeSetting(ctx.db, "last_digest_run", "2026-03-07T07:00:00.000Z");
    await scheduler.catchUp();
    expect(digests(ctx)).toBe(1);
    expect(lines.some((l) => l.startsWith("digest: the slot of") && l.includes("was missed"))).toBe(true);
    // Monday's weekly slot was missed too: it runs once, after the daily one, and gathers it.
    expect(digests(ctx, "weekly")).toBe(1);
    expect(lines.some((l) => /^weekly: the slot of 2026-03-09T\d\d:00:00.000Z was missed/.test(l))).toBe(true);
    // The page of a new list day arrives: the next slot sends it, not this one.
    await ingestFile(ctx, SAMPLE_FILES[2]!, { capturedAt: new Date("2026-03-10T12:30:00Z") });
    clock.set(new Date("2026-03-10T13:00:00Z"));
    await scheduler.catchUp();
    expect(digests(ctx)).toBe(1);
    // The next slot passes: one more.
    clock.set(new Date("2026-03-11T09:00:00Z"));
    await scheduler.catchUp();
    expect(digests(ctx)).toBe(2);
    expect(digests(ctx, "weekly")).toBe(1);
  });

  it("on a Monday at 08:00 publishes the daily digest, then the weekly one that gathers it, whichever tick comes first", async () => {
    for (const order of [["weekly", "digest"], ["digest", "weekly"]] as const) {
      // 2026-03-09 is a Monday; 07:00 UTC is 08:00 in Paris.
      const { ctx, scheduler, lines } = setup(new Date("2026-03-09T07:00:05Z"));
      await ingestFile(ctx, SAMPLE_FILES[0]!);
      await Promise.all(order.map((job) => scheduler.tick(job)));
      expect(digests(ctx)).toBe(1);
      expect(digests(ctx, "weekly")).toBe(1);
      const weekly = ctx.db.prepare("SELECT covers_through AS through FROM digests WHERE edition = 'weekly'").get() as { through: number };
      const daily = ctx.db.prepare("SELECT id FROM digests WHERE edition = 'daily'").get() as { id: number };
      expect(weekly.through).toBe(daily.id);
      // Another tick of the same slot publishes nothing more.
      await scheduler.tick("digest");
      expect(lines.filter((l) => l.startsWith("digest:")).length).toBe(1);
    }
  });

  it("does not publish at the very first start", async () => {
    const { ctx, scheduler } = setup(new Date("2026-03-10T12:00:00Z"));
    await ingestFile(ctx, SAMPLE_FILES[0]!);
    await scheduler.catchUp();
    expect(digests(ctx)).toBe(0);
  });

  it("runs overlapping triggers of a job once, and never two jobs at a time", async () => {
    const { ctx, scheduler, lines } = setup(new Date("2026-03-10T12:00:00Z"));
    await Promise.all([scheduler.run("ingest"), scheduler.run("digest"), scheduler.run("digest"), scheduler.run("digest")]);
    expect(digests(ctx)).toBe(1);
    expect(lines.filter((l) => l.startsWith("digest")).length).toBe(1);
    expect(lines[0]).toMatch(/^ingest: 4 file\(s\)/);
    await scheduler.stop();
  });
});

describe("the scheduler's log", () => {
  it("routes node-cron's own warnings through the log, without colour codes", async () => {
    const { createScheduler } = await import("../../src/scheduler/scheduler.js");
    const p = project();
    // Every second: a blocked event loop makes node-cron miss a run and warn.
    const ctx = context(p.cwd, { ...p.env, PAPERMAIL_INGEST_CRON: "* * * * * *", PAPERMAIL_DUMPS_DIR: join(p.cwd, "none") });
    const lines: string[] = [];
    const scheduler = createScheduler(ctx, (l) => lines.push(l));
    try {
      scheduler.start();
      await waitFor(() => lines.some((l) => l.startsWith("ingest")), "the first ingest of the schedule");
      const until = Date.now() + 2500;
      while (Date.now() < until); // the event loop is blocked past two of the schedule's seconds
      await waitFor(() => lines.some((l) => /^scheduler: missed execution/.test(l)), "node-cron's warning");
    } finally {
      await scheduler.stop();
    }
    expect(lines.some((l) => /^scheduler: missed execution/.test(l))).toBe(true);
    expect(lines.join("\n")).not.toContain("\x1b");
  }, 20_000);
});
