import Database from "better-sqlite3";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { createMailer } from "../../src/deliver/transport/create-mailer.js";
import { deliverDigest } from "../../src/deliver/engine.js";
import { createSmtpMailer } from "../../src/deliver/transport/smtp-mailer.js";
import { publishDigests } from "../../src/digest/publish.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { recoverInterruptedDeliveries } from "../../src/store/delivery-recovery.js";
import { freezeEdition } from "../../src/digest/editions.js";
import { holdSenderLease } from "../../src/store/senders.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { spawnCli } from "../helpers/cli.js";
import { addressList, context, ledger, project, smtp } from "../helpers/project.js";
import { downRelay } from "../helpers/down-relay.js";
import { fakeClock } from "../helpers/site.js";
import { waitFor } from "../helpers/wait.js";

type Row = { email: string; status: string; attempts: number; next: string; error: string | null };
function rows(db: Database.Database): Row[] {
  return db
    .prepare("SELECT s.email, d.status, d.attempts, d.next_attempt_at AS next, d.last_error AS error FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id ORDER BY s.id")
    .all() as Row[];
}

/** A project with subscribers, the first sample ingested, and an in-process context on its database. */
async function readyProject(smtpUrl: string | undefined, subscribers: string) {
  const p = project(smtpUrl);
  await p.cli(["subscribers", "import", "-", "--confirmed"], subscribers);
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  return { ...p, ctx: context(p.cwd, p.env) };
}

describe("an outage or a slow server never fails a reader", () => {
  it("an unreachable server uses up no attempts, on the first run or the tenth", async () => {
    const relay = await downRelay();
    const p = await readyProject(relay.url, addressList(5));
    for (let run = 0; run < 10; run++) expect((await p.cli(["send-digest"])).code).toBe(1);
    const all = rows(p.db());
    expect(all).toHaveLength(5);
    for (const r of all) expect(r).toMatchObject({ status: "queued", attempts: 0 });
  }, 60_000);

  it("keeps a 4xx-refused message queued for a retry minutes later, shows when, and gives up only after the give-up age", async () => {
    const server = await smtp({ fault: (to) => (to === "busy@example.org" ? "450" : undefined) });
    const p = await readyProject(server.url, "busy@example.org\nfine@example.org");
    const first = await p.cli(["send-digest", "--json"]);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.digests[0]).toMatchObject({ sent: 1, failed: 0, queued: 1, complete: false });
    const busy = rows(p.db()).find((r) => r.email === "busy@example.org")!;
    expect(busy).toMatchObject({ status: "queued", attempts: 1 });
    const inMinutes = (Date.parse(busy.next) - Date.now()) / 60_000;
    expect(inMinutes).toBeGreaterThan(0.5);
    expect(report.waiting[0]).toMatchObject({ digestId: 1, queued: 1, nextAttemptAt: busy.next });
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.deliveries).toMatchObject({ waiting: 1, nextAttemptAt: busy.next });

    // Three days later the server still says 450: now, and only now, the message is given up.
    const clock = fakeClock(Date.now() + 73 * 3600_000);
    const result = await publishDigests({ ...p.ctx, clock }, { retryUnknown: false, freeze: false });
    expect(result.digests[0]).toMatchObject({ failed: 1, queued: 0, complete: true });
    expect(rows(p.db()).find((r) => r.email === "busy@example.org")!.error).toMatch(/gave up after 2 attempts over 73\.0 h/);
  }, 60_000);

  it("slows the whole run down on throttling answers (421, 451, 454) and fails nobody", async () => {
    // The first attempt to each of the first six readers meets "454 Throttling failure".
    const server = await smtp({ fault: (to, n) => (n === 1 && Number(/\d+/.exec(to)![0]) < 6 ? "454" : undefined) });
    const p = await readyProject(server.url, addressList(20));
    const id = freezeEdition(p.ctx.db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: () => "t", includeDemo: true })!;
    const mailer = createMailer(p.ctx.config, String(id));
    const started = Date.now();
    const report = await deliverDigest({ ...p.ctx, mailer, secret: "s".repeat(32), owner: "t:1:1" }, id, { concurrency: 4, throttle: { firstPauseMs: 50 } });
    await mailer.close();
    expect(report).toMatchObject({ sent: 20, failed: 0, unknown: 0, complete: true });
    // Pauses of 50, 100, 200 ms ... in a row: the run waited instead of burning retries.
    expect(Date.now() - started).toBeGreaterThan(300);
    expect(rows(p.db()).map((r) => r.attempts)).toEqual(Array(20).fill(1));
    expect(server.countsByRecipient().size).toBe(20);
  }, 60_000);

  it("recovers a row left sending by a crashed process even when a live process has its host and pid", async () => {
    const p = await readyProject(undefined, addressList(2));
    freezeEdition(p.ctx.db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: () => "t", includeDemo: true });
    // A container restarted with the same pid: the owner id matches a live process's host and pid.
    const gone = `${hostname()}:${process.pid}:deadbeef`;
    p.ctx.db.prepare("UPDATE deliveries SET status = 'sending', claimed_by = ? WHERE subscriber_id = 1").run(gone);
    const alive = `${hostname()}:${process.pid}:cafecafe`;
    const release = holdSenderLease(p.ctx.db, alive, 1, () => new Date());
    p.ctx.db.prepare("UPDATE deliveries SET status = 'sending', claimed_by = ? WHERE subscriber_id = 2").run(alive);
    expect(recoverInterruptedDeliveries(p.ctx.db, new Date())).toBe(1);
    expect(rows(p.db()).map((r) => r.status)).toEqual(["unknown", "sending"]);
    release();
  });

  it("records every outcome while another process holds the write lock", async () => {
    const server = await smtp();
    const p = await readyProject(server.url, addressList(30));
    p.ctx.db.pragma("busy_timeout = 20");
    const id = freezeEdition(p.ctx.db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: () => "t", includeDemo: true })!;
    const blocker = new Database(p.ctx.config.dbPath);
    const mailer = createMailer(p.ctx.config, String(id));
    server.received.length = 0;
    // Once five outcomes are known, a long write (an ingest) takes the lock, and keeps it
    // until the outcome of a message that was in flight has come back and must wait to be recorded.
    let settledWhileLocked = -1;
    const sending = deliverDigest({ ...p.ctx, mailer, secret: "s".repeat(32), owner: "t:1:1" }, id, {
      concurrency: 2,
      onProgress(settled) {
        if (settled === 5) blocker.exec("BEGIN IMMEDIATE");
        if (settled > 5 && settledWhileLocked === -1) settledWhileLocked = settled;
      },
    });
    await waitFor(() => settledWhileLocked > 5, "an outcome to come back while the lock is held");
    blocker.exec("COMMIT");
    const report = await sending;
    await mailer.close();
    blocker.close();
    expect(report).toMatchObject({ sent: 30, unknown: 0, complete: true });
    expect(server.received).toHaveLength(30);
  }, 60_000);

  it("gives the end-of-data reply its time, then calls a stalled message unknown and pauses after several stalls", async () => {
    const { DEFAULT_TIMEOUTS } = await import("../../src/deliver/transport/smtp-session.js");
    expect(DEFAULT_TIMEOUTS.endOfDataMs).toBe(10 * 60_000);
    const server = await smtp({ fault: () => "stall" });
    const p = await readyProject(server.url, addressList(12));
    const id = freezeEdition(p.ctx.db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: () => "t", includeDemo: true })!;
    const mailer = createSmtpMailer({ url: server.url, poolSize: 1, timeouts: { endOfDataMs: 300 } });
    const report = await deliverDigest({ ...p.ctx, mailer, secret: "s".repeat(32), owner: "t:1:1" }, id, { concurrency: 1 });
    await mailer.close();
    expect(report).toMatchObject({ unknown: 3, queued: 9, failed: 0, stopReason: "stalled" });
    expect(report.stopped).toMatch(/stopped answering/);
  }, 60_000);

  it("retries a message whose connection dropped before its data was written, instead of calling it unknown", async () => {
    const server = await smtp({ fault: (to, n) => (to === "flaky@example.org" && n === 1 ? "drop-at-data" : undefined) });
    const p = await readyProject(server.url, "flaky@example.org\nfine@example.org");
    const r = JSON.parse((await p.cli(["send-digest", "--json"])).stdout);
    expect(r.digests[0]).toMatchObject({ sent: 2, unknown: 0, failed: 0 });
    expect(server.countsByRecipient()).toEqual(new Map([["flaky@example.org", 1], ["fine@example.org", 1]]));
    expect(rows(p.db()).map((x) => x.attempts)).toEqual([1, 1]);
  });

  it("keeps the unsubscribe link of the first copy working after a re-send with --retry-unknown", async () => {
    const server = await smtp({ fault: (to, n) => (n === 1 ? "drop-after-data" : undefined) });
    const p = await readyProject(server.url, "ada@example.org");
    await p.cli(["send-digest"]);
    await p.cli(["send-digest", "--retry-unknown"]);
    expect(server.received).toHaveLength(2);
    const links = await Promise.all(server.received.map(async (m) => String((await server.parse(m)).headers.get("list-unsubscribe"))));
    expect(links[0]).toBe(links[1]);
    const { unsubscribeByToken } = await import("../../src/subscribers/subscribe.js");
    const token = /\/unsubscribe\/([^>]+)>/.exec(String((await server.parse(server.received[0]!)).headerLines.find((h) => h.key === "list-unsubscribe")!.line))![1]!;
    expect(await unsubscribeByToken(p.ctx, token)).toBe(true);
  });

  it("publishes at most one new digest when runs overlap", async () => {
    const p = await readyProject(undefined, addressList(3));
    await ingestFile(p.ctx, SAMPLE_FILES[1]!);
    // Another run froze a digest and is still sending it.
    const first = freezeEdition(p.ctx.db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: () => "t", includeDemo: true })!;
    const overlapping = await publishDigests(p.ctx, { retryUnknown: false });
    expect(overlapping.digests.map((d) => d.digestId)).toEqual([first]);
    expect(overlapping.heldBack).toMatch(/still being sent/);
    expect(p.ctx.db.prepare("SELECT count(*) AS n FROM digests").get()).toEqual({ n: 1 });
    // The next list day arrives; two runs started together: one freezes, the other finds it and freezes nothing.
    await ingestFile(p.ctx, SAMPLE_FILES[2]!);
    const [a, b] = await Promise.all([publishDigests(p.ctx, { retryUnknown: false }), publishDigests(context(p.cwd, p.env), { retryUnknown: false })]);
    expect(p.ctx.db.prepare("SELECT count(*) AS n FROM digests").get()).toEqual({ n: 2 });
    expect([a, b].filter((r) => r.digests.length > 0).length).toBeGreaterThan(0);
  });

  it("import --confirmed never reactivates someone who unsubscribed; --reactivate does and says so", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "left@example.org", "--confirmed"]);
    await p.cli(["subscribers", "remove", "left@example.org"]);
    const kept = await p.cli(["subscribers", "import", "-", "--confirmed"], "left@example.org\nnew@example.org\n");
    expect(kept.stdout).toMatch(/1 kept unsubscribed/);
    const list = () => p.cli(["subscribers", "list", "--json"]).then((r) => JSON.parse(r.stdout).map((s: { email: string; status: string }) => `${s.email}:${s.status}`));
    expect(await list()).toEqual(["left@example.org:unsubscribed", "new@example.org:active"]);
    const forced = await p.cli(["subscribers", "import", "-", "--confirmed", "--reactivate"], "left@example.org\n");
    expect(forced.stdout).toMatch(/1 reactivated although they had unsubscribed/);
    expect(await list()).toContain("left@example.org:active");
    expect((await p.cli(["subscribers", "import", "-", "--reactivate"], "x@example.org\n")).code).toBe(2);
  });

  it("Ctrl-C on send-digest pauses like SIGTERM: messages in flight are recorded, the rest stay queued", async () => {
    const server = await smtp({ fault: () => "slow" });
    const p = await readyProject(server.url, addressList(200));
    const child = spawnCli(["send-digest"], { cwd: p.cwd, env: p.env });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    await waitFor(() => server.received.length >= 10, "ten messages at the server");
    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/SIGINT: pausing/);
    const all = ledger(p.db());
    expect(all.filter((r) => r.status === "sending")).toEqual([]);
    expect(all.filter((r) => r.status === "sent").length).toBe(server.received.length);
    expect(all.filter((r) => r.status === "queued").length).toBe(200 - server.received.length);
  }, 60_000);
});

describe("the ledger's hot queries", () => {
  it("use indexes for recovery, requeue and forget, never a scan of the deliveries table", async () => {
    // Recovery reads only the digests still being sent, through the primary key.
    const p = await readyProject(undefined, addressList(3));
    const plan = (sql: string, ...args: unknown[]) =>
      (p.ctx.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join("\n");
    const queries = [
      "SELECT DISTINCT claimed_by FROM deliveries WHERE digest_id = 1 AND status = 'sending'",
      "UPDATE deliveries SET status = 'unknown' WHERE digest_id = 1 AND status = 'sending' AND claimed_by = 'x'",
      "UPDATE deliveries INDEXED BY deliveries_unknown SET status = 'queued' WHERE status = 'unknown'",
      "SELECT DISTINCT digest_id FROM deliveries INDEXED BY deliveries_unknown WHERE status = 'unknown'",
      "DELETE FROM deliveries WHERE subscriber_id = 1",
      "SELECT min(next_attempt_at) FROM deliveries WHERE digest_id = 1 AND status = 'queued'",
    ];
    for (const q of queries) {
      const detail = plan(q);
      expect(detail, q).not.toMatch(/SCAN deliveries(?! USING)/);
      expect(detail, q).toMatch(/USING (COVERING |PRIMARY KEY )?INDEX|USING INTEGER PRIMARY KEY/);
    }
    // The statements the code runs are the ones checked here.
    const source = (await import("node:fs")).readFileSync(new URL("../../src/store/delivery-recovery.ts", import.meta.url), "utf8");
    expect(source).toContain("WHERE digest_id = ? AND status = 'sending'");
    expect(source).toContain("INDEXED BY deliveries_unknown");
  });
});
