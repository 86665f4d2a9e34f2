import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { weekdayHoursBetween } from "../../src/alarms/drift.js";
import { ABSTRACT, project, smtp } from "../helpers/project.js";
import { listen } from "../helpers/listen.js";
import { sentProject } from "../helpers/bounce-project.js";
import { startSite } from "../helpers/site.js";
import { runCli } from "../helpers/cli.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";

const day = (n: number) => new Date(Date.now() - n * 86400_000).toISOString().slice(0, 10);

/** A saved daily_papers answer of list day `n` days ago with `count` papers. */
function writeDay(dir: string, n: number, count: number, capture = ""): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `daily_papers_${day(n)}${capture}.json`);
  const entries = Array.from({ length: count }, (_, j) => ({
    paper: { id: `2511.${String(n).padStart(2, "0")}${String(j).padStart(3, "0")}`, title: `Study ${n}-${j} of things`, summary: `${ABSTRACT} ${n}-${j}.`, upvotes: j },
    submittedOnDailyAt: `${day(n)}T10:00:00.000Z`,
  }));
  writeFileSync(file, JSON.stringify(entries));
  return file;
}

async function alarmProject() {
  const server = await smtp();
  const p = project(server.url);
  const dumps = join(p.cwd, "dumps");
  Object.assign(p.env, { PAPERMAIL_DUMPS_DIR: dumps, PAPERMAIL_ADMIN_EMAIL: "ops@example.org" });
  const alertMails = async () => Promise.all(server.received.filter((m) => m.to[0] === "ops@example.org").map((m) => server.parse(m)));
  return { ...p, server, dumps, alertMails };
}

describe("the drift alarm", () => {
  it("raises an alert for a dump far smaller than the recent ones, mails it once a day, shows it in status and /healthz, and clears it", async () => {
    const p = await alarmProject();
    for (const n of [4, 3, 2, 1]) writeDay(p.dumps, n, 40);
    expect((await p.cli(["ingest"])).stderr).not.toContain("alert");
    // The scraper broke: today's capture parses to 3 papers.
    writeDay(p.dumps, 0, 3);
    const shrunk = await p.cli(["ingest"]);
    expect(shrunk.stderr).toMatch(/alert: the newest JSON dump \(.*daily_papers_.*\.json\) gave 3 papers, against a median of 40 for the 4 before it/);
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.alerts).toEqual([expect.objectContaining({ kind: "shrunken-dump" })]);
    expect((await p.cli(["status"])).stdout).toMatch(/^alert +shrunken-dump: the newest JSON dump/m);
    const mails = await p.alertMails();
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe("papermail alert: shrunken-dump (papers.example.org)");
    expect(mails[0]!.text).toContain("gave 3 papers");

    // /healthz stays 200 for load balancers and says degraded; the strict one answers 503.
    let later = 0;
    const site = await startSite({ env: { PAPERMAIL_DB: join(p.cwd, "var", "papermail.db") }, clock: { now: () => new Date(Date.now() + later) } });
    const health = await fetch(`${site.base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, status: "degraded", alerts: [{ kind: "shrunken-dump" }] });
    expect((await fetch(`${site.base}/healthz/strict`)).status).toBe(503);

    // Looking again the same day mails nothing more.
    await p.cli(["ingest"]);
    expect(await p.alertMails()).toHaveLength(1);

    // A full capture again: the alert clears itself.
    writeDay(p.dumps, 0, 38, "_fetched-later");
    const back = await p.cli(["ingest"]);
    expect(back.stderr).toContain("alert cleared: shrunken-dump");
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).alerts).toEqual([]);
    // /healthz judges at most every 5 seconds.
    later = 6000;
    expect(await (await fetch(`${site.base}/healthz`)).json()).toEqual({ ok: true, status: "ok" });
    expect((await fetch(`${site.base}/healthz/strict`)).status).toBe(200);
  });

  it("raises an alert when no new list day came for PAPERMAIL_STALE_HOURS weekday hours, and clears it when one comes", async () => {
    const p = await alarmProject();
    writeDay(p.dumps, 12, 30);
    const stale = await p.cli(["ingest"]);
    expect(stale.stderr).toMatch(/alert: no new list day since [A-Z][a-z]{2} \d{1,2} \(\d+ weekday hours, PAPERMAIL_STALE_HOURS=36\)/);
    expect((await p.alertMails())[0]!.subject).toContain("stale-input");
    writeDay(p.dumps, 1, 30);
    expect((await p.cli(["ingest"])).stderr).toContain("alert cleared: stale-input");
  });

  it("does not count weekends as stale hours", () => {
    // Friday 00:00 to Monday 12:00 UTC: Friday's 24 hours and Monday's 12.
    expect(weekdayHoursBetween(new Date("2026-11-27T00:00:00Z"), new Date("2026-11-30T12:00:00Z"))).toBe(36);
  });

  it("raises an alert after three failed fetch runs in a row, and clears it after one that works", async () => {
    let answer: { status: number; body: string } = { status: 403, body: "no" };
    const api = createServer((_req, res) => {
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body);
    });
    const port = await listen(api);
    const p = await alarmProject();
    p.env.PAPERMAIL_HF_API_URL = `http://127.0.0.1:${port}/api/daily_papers`;
    for (let i = 1; i <= 2; i++) expect((await p.cli(["fetch"])).stderr).not.toContain("alert:");
    const third = await p.cli(["fetch"]);
    expect(third.stderr).toContain("alert: the last 3 fetch runs all failed");
    answer = { status: 200, body: "[]" };
    const ok = await p.cli(["fetch"]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("alert cleared: fetch-failing");
  });

  it("raises an alert when most recipients of the latest digest failed", async () => {
    const readers = ["ada@example.org", ...Array.from({ length: 6 }, (_, i) => `gone${i}@example.org`)];
    const p = await sentProject(readers, { PAPERMAIL_ADMIN_EMAIL: "ops@example.org" });
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.alerts).toContainEqual(expect.objectContaining({ kind: "digest-failing", message: expect.stringMatching(/^digest #1: 6 of 7 messages failed or are unknown/) }));
    expect(p.server.received.some((m) => m.to[0] === "ops@example.org")).toBe(true);
  });
});

describe("the complaint rate", () => {
  it("is a /metrics gauge and a console figure, warns over 0.1% and turns critical at 0.3%, over 7 days", async () => {
    const token = "metrics-token-0123456789";
    const site = await startSite({ env: { PAPERMAIL_METRICS_TOKEN: token } });
    const db = site.ctx.db;
    const now = new Date().toISOString();
    // A week's sending as the ledger holds it: 2,000 messages delivered, the readers' rows with them.
    db.transaction(() => {
      db.prepare("INSERT INTO digests (id, created_at, subject, paper_count, recipient_count, status) VALUES (1, ?, 'Digest', 1, 2000, 'done')").run(now);
      const row = db.prepare("INSERT INTO deliveries (digest_id, subscriber_id, status, updated_at) VALUES (1, ?, 'sent', ?)");
      for (let i = 0; i < 2000; i++) row.run(addConfirmedReader(db, `r${i}@example.org`, now).subscriber.id, now);
    })();
    const complain = (n: number, at = now) => {
      for (let i = 0; i < n; i++) db.prepare("INSERT INTO bounce_events (subscriber_id, digest_id, kind, reason, source, at) VALUES (?, 1, 'complaint', 'feedback', 'arf', ?)").run(i + 1, at);
    };
    const gauge = async () => {
      const text = await (await fetch(`${site.base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      return Number(/^papermail_complaint_rate (\S+)$/m.exec(text)?.[1]);
    };
    const alerts = async () => JSON.parse((await runCli(["status", "--json"], { cwd: site.cwd, env: site.env })).stdout).alerts.map((a: { kind: string }) => a.kind);

    // Complaints older than the window do not count.
    complain(10, new Date(Date.now() - 8 * 86400_000).toISOString());
    complain(1);
    expect(await gauge()).toBeCloseTo(0.0005);
    expect(await alerts()).not.toContain("complaints-warning");
    complain(2);
    expect(await gauge()).toBeCloseTo(0.0015);
    expect(await alerts()).toContain("complaints-warning");
    complain(4);
    expect(await gauge()).toBeCloseTo(0.0035);
    const critical = JSON.parse((await runCli(["status", "--json"], { cwd: site.cwd, env: site.env })).stdout).alerts;
    expect(critical).toContainEqual(expect.objectContaining({ kind: "complaints-critical", message: expect.stringMatching(/^7 complaints over 2000 messages delivered in 7 days: 0\.35%/) }));
  });
});
