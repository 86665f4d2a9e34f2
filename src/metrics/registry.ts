import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Db } from "../store/db.js";
import { readOperations } from "../store/operations.js";
import { complaintRate } from "../store/complaint-rate.js";
import type { RelaySpec } from "../config/relays.js";
import { relayReports } from "../store/relays.js";
import type { Clock } from "../util/time.js";

/** The process's metrics: counted where the work happens (HTTP here), read from the database at scrape time for the rest. */
export interface Metrics {
  registry: Registry;
  /** Answers of this process's site, by route pattern and status. */
  httpRequests: Counter<"route" | "status">;
  /** The exposition text of every metric, read now. */
  render(): Promise<string>;
  contentType: string;
}

/**
 * One registry per server. What the database knows (ledger, digests, bounces, papers,
 * dumps, readers) is read from it on each scrape, so the figures are those of every
 * papermail process together (a `send-digest` run by hand included) and match the
 * database; the rest are this process's own.
 */
export function createMetrics(db: Db, clock: Clock, relays: readonly RelaySpec[] = []): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "papermail_" });
  const httpRequests = new Counter({ name: "papermail_http_requests_total", help: "HTTP answers of this process by route and status", labelNames: ["route", "status"] as const, registers: [registry] });

  // One read of the database per scrape, shared by the metrics below.
  let snapshot: { at: number; value: ReturnType<typeof readOperations> } | undefined;
  const read = () => {
    const now = clock.now().getTime();
    if (!snapshot || now - snapshot.at > 1000) snapshot = { at: now, value: readOperations(db) };
    return snapshot.value;
  };
  const secondsSince = (iso: string | null) => (iso ? Math.max(0, (clock.now().getTime() - Date.parse(iso)) / 1000) : -1);

  // Metrics filled from the database at each scrape: a counter's value is the database's total.
  type Values<L extends string> = () => Array<[Partial<Record<L, string>>, number]>;
  function fromDatabase<L extends string>(kind: "counter" | "gauge", name: string, help: string, labelNames: readonly L[], values: Values<L>) {
    const fill = (set: (labels: never, n: number) => void) => {
      for (const [labels, n] of values()) if (kind === "gauge" || n > 0) set(labels as never, n);
    };
    const options = { name, help, labelNames, registers: [registry] };
    if (kind === "counter") return new Counter({ ...options, collect() { this.reset(); fill((l, n) => this.inc(l, n)); } });
    return new Gauge({ ...options, collect() { this.reset(); fill((l, n) => this.set(l, n)); } });
  }
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], values: Values<L>) => fromDatabase("counter", name, help, labelNames, values);
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], values: Values<L>) => fromDatabase("gauge", name, help, labelNames, values);

  const OUTCOMES = ["sent", "failed", "unknown", "skipped"];
  counter("papermail_messages_total", "digest messages by final outcome (sent, failed, unknown, skipped), compacted digests included", ["outcome"], () =>
    OUTCOMES.map((o) => [{ outcome: o }, read().deliveries[o] ?? 0]),
  );
  gauge("papermail_queue_depth", "digest messages waiting to be sent (queued or being sent)", ["status"], () => [
    [{ status: "queued" }, read().queued],
    [{ status: "sending" }, read().deliveries.sending ?? 0],
  ]);
  gauge("papermail_queue_oldest_seconds", "age of the oldest queued message's last change, 0 with an empty queue", [], () => [[{}, read().oldestQueuedAt ? secondsSince(read().oldestQueuedAt) : 0]]);
  counter("papermail_digests_total", "digests published, by edition", ["edition"], () => Object.entries(read().digests).map(([edition, n]) => [{ edition }, n]));
  counter("papermail_bounce_events_total", "bounce and complaint events, by kind (hard, soft, sender, complaint)", ["kind"], () =>
    Object.entries(read().bounceEvents).map(([kind, n]) => [{ kind }, n]),
  );
  counter("papermail_sender_refusals_total", "refusals of our sender (not of a reader), by receiving domain", ["domain"], () =>
    read().senderRefusals.map((r) => [{ domain: r.domain }, r.count]),
  );
  gauge("papermail_complaint_rate", "complaints over messages delivered in the last 7 days (Gmail and Yahoo's measure; 0.001 warns, 0.003 is their line)", [], () => [
    [{}, complaintRate(db, clock.now()).rate],
  ]);
  const relayRows = () => relayReports(db, relays, clock.now());
  gauge("papermail_relay_up", "each relay of PAPERMAIL_SMTP_URL: 1 up, 0 passed over (down or at its daily limit)", ["relay", "state"], () =>
    relayRows().map((r) => [{ relay: r.relay, state: r.state }, r.state === "up" ? 1 : 0]),
  );
  gauge("papermail_relay_sent_24h", "messages each relay with a daily limit of its own took in the last 24 hours", ["relay"], () =>
    relayRows().filter((r) => r.sentLast24h !== null).map((r) => [{ relay: r.relay }, r.sentLast24h!]),
  );
  gauge("papermail_relay_daily_limit", "each relay's own daily limit", ["relay"], () => relayRows().filter((r) => r.dailyLimit !== null).map((r) => [{ relay: r.relay }, r.dailyLimit!]));
  gauge("papermail_subscribers", "readers by status", ["status"], () => Object.entries(read().subscribers).map(([status, n]) => [{ status }, n]));
  gauge("papermail_papers", "papers stored, and waiting for a digest", ["state"], () => [
    [{ state: "stored" }, read().papers.stored],
    [{ state: "waiting" }, read().papers.waiting],
  ]);
  counter("papermail_dump_files_total", "dump files read, by result (ingested, rejected)", ["result"], () => [
    [{ result: "ingested" }, read().dumps.ingested],
    [{ result: "rejected" }, read().dumps.rejected],
  ]);
  gauge("papermail_seconds_since_last_ingest", "seconds since a dump file was last ingested (-1: never)", [], () => [[{}, secondsSince(read().lastIngestAt)]]);
  gauge("papermail_seconds_since_last_fetch", "seconds since `fetch` last succeeded (-1: never)", [], () => [[{}, secondsSince(read().lastFetchAt)]]);

  return { registry, httpRequests, render: () => registry.metrics(), contentType: registry.contentType };
}

/** The route pattern of a path, for the HTTP metrics: tokens, ids and slugs never become labels. */
export function routeOf(path: string): string {
  if (["/", "/digests", "/search", "/healthz", "/healthz/strict", "/metrics", "/subscribe"].includes(path)) return path;
  if (/^\/feed\.(xml|atom|json)$/.test(path)) return path;
  if (/^\/webhooks\/(ses|postmark|mailgun|sendgrid)$/.test(path)) return path;
  if (/^\/favicon\.(ico|svg)$/.test(path)) return "/favicon";
  const m = /^\/(digests|papers|confirm|unsubscribe|resubscribe|preferences)\/[^/]+$/.exec(path);
  if (m) return `/${m[1]}/:id`;
  return "other";
}
