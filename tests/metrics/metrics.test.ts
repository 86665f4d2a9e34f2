import { join } from "node:path";
import { describe, expect, it } from "vitest";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { startServe } from "../helpers/cli.js";
import { dsn } from "../helpers/bounce-messages.js";
import { sentProject } from "../helpers/bounce-project.js";
import { startSite } from "../helpers/site.js";

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
    const serve = await startServe(["--no-scheduler"], { cwd: tempDir(), env: { PAPERMAIL_ADMIN_HOST: "127.0.0.1", PAPERMAIL_ADMIN_PORT: "0" } });
    const adminPort = Number(/admin listener on http:\/\/127\.0\.0\.1:(\d+)\//.exec(serve.output.stdout)?.[1]);
    expect(adminPort).toBeGreaterThan(0);
    expect((await fetch(`${serve.base}/metrics`)).status).toBe(404);
    const scrape = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(parsePrometheusTextFormat(await scrape.text()).map((f: Family) => f.name)).toContain("papermail_messages_total");
    expect((await fetch(`http://127.0.0.1:${adminPort}/`)).status).toBe(404);
  });
});
