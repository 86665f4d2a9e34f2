import { cachedStatement, type Db } from "./db.js";
import { suppressSubscriber } from "./subscribers.js";

/** One bounce or complaint about one subscriber. */
export interface BounceEvent {
  subscriberId: number;
  digestId: number | null;
  kind: "hard" | "soft" | "complaint";
  /** An enhanced status code (5.1.1) or SMTP reply code (550), when known. */
  statusCode: string | null;
  detail: string;
  /** smtp (the relay's answer), dsn, arf, or text (a provider's own bounce shape). */
  source: string;
  /** The bounce message it came from; null for SMTP-time answers. */
  messageKey: string | null;
  at: string;
}

/** Soft bounces that make an address `bounced`: `limit` within `days`. */
export interface BouncePolicy {
  softLimit: number;
  softDays: number;
}

/**
 * Records a bounce or complaint and applies the policy, inside the caller's
 * transaction: a hard bounce makes the subscriber `bounced`, `softLimit` soft ones
 * within `softDays` do too, and a complaint makes them `complained` at once.
 * Returns the new status when it changed.
 */
export function recordBounceEvent(db: Db, e: BounceEvent, policy: BouncePolicy): "bounced" | "complained" | undefined {
  cachedStatement(
    db,
    `INSERT INTO bounce_events (subscriber_id, digest_id, kind, status_code, detail, source, message_key, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(e.subscriberId, e.digestId, e.kind, e.statusCode, e.detail.slice(0, 500), e.source, e.messageKey, e.at);
  const code = e.statusCode ? ` ${e.statusCode}` : "";
  if (e.kind === "complaint") return suppressSubscriber(db, e.subscriberId, "complained", `complaint (${e.source})`, e.at) ? "complained" : undefined;
  if (e.kind === "hard") return suppressSubscriber(db, e.subscriberId, "bounced", `hard bounce${code} (${e.source})`, e.at) ? "bounced" : undefined;
  const since = new Date(Date.parse(e.at) - policy.softDays * 86400_000).toISOString();
  const soft = cachedStatement<[number, string], { n: number }>(
    db,
    "SELECT count(*) AS n FROM bounce_events WHERE subscriber_id = ? AND kind = 'soft' AND at >= ?",
  ).get(e.subscriberId, since)!.n;
  if (soft < policy.softLimit) return undefined;
  return suppressSubscriber(db, e.subscriberId, "bounced", `${soft} soft bounces in ${policy.softDays} days${code} (${e.source})`, e.at) ? "bounced" : undefined;
}

/** What came of a bounce message read before ("applied" or "unrecognised"), or undefined when it is new. */
export function bounceMessageOutcome(db: Db, key: string): string | undefined {
  return db.prepare<[string], { outcome: string }>("SELECT outcome FROM bounce_messages WHERE key = ?").get(key)?.outcome;
}

/** Remembers a bounce message as read, with what came of it. */
export function recordBounceMessage(db: Db, key: string, outcome: "applied" | "unrecognised", detail: string, at: string): void {
  db.prepare("INSERT INTO bounce_messages (key, read_at, outcome, detail) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail, read_at = excluded.read_at").run(
    key,
    at,
    outcome,
    detail.slice(0, 500),
  );
}

/** Bounce and complaint counts per kind over the last `days`. */
export function countBounceEvents(db: Db, since: string): Record<BounceEvent["kind"], number> {
  const counts = { hard: 0, soft: 0, complaint: 0 };
  for (const r of db.prepare<[string], { kind: BounceEvent["kind"]; n: number }>("SELECT kind, count(*) AS n FROM bounce_events WHERE at >= ? GROUP BY kind").all(since)) {
    counts[r.kind] = r.n;
  }
  return counts;
}
