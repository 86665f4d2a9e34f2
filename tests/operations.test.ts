import { join } from "node:path";
import { describe, expect, it } from "vitest";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { SAMPLE_FILES, spawnCli, tempDir } from "./helpers.js";
import { dsn } from "./bounce-messages.js";
import { sentProject } from "./bounce-project.js";
import { freePort, startSite } from "./site.js";

type Family = { name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value: string }> };

/** A scrape as Prometheus reads it: family name -> sample value for these labels. */
function sample(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  const m = family?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m === undefined ? undefined : Number(m.value);
}

describe("Prometheus metrics", () => {
  it("after a send, a bounce run and an ingest, /metrics counts what the database holds; behind the bearer token", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org", "cy@example.org"]);
    const path = p.file("hard.eml", dsn({ to: p.verp.get("ada@example.org")!, recipient: "ada@example.org", status: "5.1.1" }));
    expect((await p.cli(["bounces", "ingest", path])).code).toBe(0);
    await p.cli(["ingest", SAMPLE_FILES[1]!]);
    const token = "metrics-token-0123456789";
    const site = await startSite({ env: { PAPERMAIL_DB: join(p.cwd, "var", "papermail.db"), PAPERMAIL_METRICS_TOKEN: token } });

    const refused = await fetch(`${site.base}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await fetch(`${site.base}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    await fetch(`${site.base}/`);
    const r = await fetch(`${site.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await r.text()) as Family[];

    const db = p.db();
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(sample(families, "papermail_messages_total", { outcome: "sent" })).toBe(count("SELECT count(*) AS n FROM deliveries WHERE status = 'sent'"));
    expect(sample(families, "papermail_messages_total", { outcome: "sent" })).toBe(3);
    expect(sample(families, "papermail_digests_total", { edition: "daily" })).toBe(1);
    expect(sample(families, "papermail_bounce_events_total", { kind: "hard" })).toBe(count("SELECT count(*) AS n FROM bounce_events WHERE kind = 'hard'"));
    expect(sample(families, "papermail_bounce_events_total", { kind: "hard" })).toBe(1);
    expect(sample(families, "papermail_subscribers", { status: "bounced" })).toBe(1);
    expect(sample(families, "papermail_subscribers", { status: "active" })).toBe(2);
    expect(sample(families, "papermail_papers", { state: "stored" })).toBe(count("SELECT count(*) AS n FROM papers"));
    expect(sample(families, "papermail_dump_files_total", { result: "ingested" })).toBe(count("SELECT count(*) AS n FROM dumps WHERE status = 'ingested'"));
    expect(sample(families, "papermail_dump_files_total", { result: "ingested" })).toBe(2);
    expect(sample(families, "papermail_queue_depth", { status: "queued" })).toBe(0);
    expect(sample(families, "papermail_seconds_since_last_ingest")).toBeGreaterThanOrEqual(0);
    expect(sample(families, "papermail_seconds_since_last_fetch")).toBe(-1);
    expect(sample(families, "papermail_http_requests_total", { route: "/metrics", status: "401" })).toBe(2);
    expect(sample(families, "papermail_http_requests_total", { route: "/", status: "200" })).toBe(1);
    expect(sample(families, "papermail_process_cpu_user_seconds_total")).toBeGreaterThan(0);
    db.close();
  });

  it("counts a request whose target cannot be parsed as a URL, answers it 400, and keeps serving", async () => {
    const site = await startSite({ env: { PAPERMAIL_METRICS_TOKEN: "metrics-token-0123456789" } });
    const { connect } = await import("node:net");
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      const socket = connect(site.port, "127.0.0.1", () => socket.end("GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      socket.on("data", (c) => (text += c));
      socket.on("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    const r = await fetch(`${site.base}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } });
    expect(sample(parsePrometheusTextFormat(await r.text()) as Family[], "papermail_http_requests_total", { route: "other", status: "400" })).toBe(1);
  });

  it("without a token, /metrics is served only on the admin listener", async () => {
    const cwd = tempDir();
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = spawnCli(["serve", "--no-scheduler"], { cwd, env: { PAPERMAIL_PORT: String(port), PAPERMAIL_ADMIN_HOST: "127.0.0.1", PAPERMAIL_ADMIN_PORT: String(adminPort) } });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    for (let i = 0; i < 100 && !out.includes("serving"); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      expect(out).toContain(`admin listener on http://127.0.0.1:${adminPort}/`);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      const scrape = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
      expect(scrape.status).toBe(200);
      expect(parsePrometheusTextFormat(await scrape.text()).map((f: Family) => f.name)).toContain("papermail_messages_total");
      expect((await fetch(`http://127.0.0.1:${adminPort}/`)).status).toBe(404);
    } finally {
      child.kill("SIGTERM");
    }
  });
});

describe("structured logs", () => {
  it("PAPERMAIL_LOG_FORMAT=json writes one JSON object per line: time, level, event, message", async () => {
    const cwd = tempDir();
    const port = await freePort();
    const secret = "s3cret-".repeat(6);
    const child = spawnCli(["serve"], {
      cwd,
      env: { PAPERMAIL_PORT: String(port), PAPERMAIL_LOG_FORMAT: "json", PAPERMAIL_SECRET: secret, PAPERMAIL_DUMPS_DIR: SAMPLE_FILES[0]!.replace(/\/[^/]+$/, "") },
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    for (let i = 0; i < 100 && !out.includes('"event":"ingest"'); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    await new Promise((r) => child.on("exit", r));
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { time: string; level: string; event: string; msg: string });
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) {
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      expect(["info", "warn", "error"]).toContain(l.level);
      expect(typeof l.event).toBe("string");
    }
    expect(lines.find((l) => l.event === "ingest")!.msg).toMatch(/^ingest: 4 file\(s\), 4 ingested/);
    expect(out).not.toContain(secret);
  });

  it("never writes a secret of the settings, in either format", async () => {
    const { createLog } = await import("../src/util/log.js");
    const { PassThrough } = await import("node:stream");
    for (const format of ["text", "json"] as const) {
      const stream = new PassThrough();
      let written = "";
      stream.on("data", (c) => (written += c));
      const log = createLog(format, ["hunter2-password", undefined, "tok-0123456789abcdef"], stream);
      log("bounces: imaps://user:hunter2-password@mail.example.org/INBOX refused the login");
      log("alert: a token tok-0123456789abcdef in a line");
      await new Promise((r) => setImmediate(r));
      expect(written).not.toContain("hunter2-password");
      expect(written).not.toContain("tok-0123456789abcdef");
      expect(written).toContain("[redacted]");
      if (format === "json") expect(written.trim().split("\n").map((l) => JSON.parse(l).level)).toEqual(["warn", "warn"]);
    }
  });
});
