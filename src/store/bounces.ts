import { suppressionFor, type BounceKind, type BouncePolicy } from "../model/bounce.js";
import { cachedStatement, type Db } from "./db.js";
import { applyConsentEvent } from "./consent.js";

export type { BouncePolicy } from "../model/bounce.js";

/** The kinds an event can have: a report of a delivery notice or an auto-reply changes nobody and is not recorded as one. */
export type EventKind = Exclude<BounceKind, "not-a-bounce">;

/** One bounce, complaint or refusal about one subscriber. */
export interface BounceEvent {
  subscriberId: number;
  digestId: number | null;
  kind: EventKind;
  /** The reason (src/model/bounce.ts), such as userunknown or blocked. */
  reason: string | null;
  /** An enhanced status code (5.1.1) or SMTP reply code (550), when known. */
  statusCode: string | null;
  detail: string;
  /** smtp (the relay's answer), dsn, arf, ses, or text (a provider's own bounce shape). */
  source: string;
  /** The bounce message it came from; null for SMTP-time answers. */
  messageKey: string | null;
  /** What tied the report to our mail: verp, message-id or unsubscribe-link; null at SMTP time. */
  proof: string | null;
  /**
   * The message it is about ("digest:12", "confirm:S.T"), when known: soft bounces count
   * once per message, however many reports of it arrive.
   */
  about: string | null;
  /** The receiving domain (the reader's). */
  domain: string | null;
  at: string;
}

/** What an event did: the reader's new status, and the soft bounces in the window so far. */
export interface EventEffect {
  became?: "bounced" | "complained";
  softInWindow?: number;
}

/**
 * Records an event and applies the policy (src/model/bounce.ts), inside the caller's
 * transaction: a hard bounce makes the subscriber `bounced`, a series of soft ones
 * does too, a complaint makes them `complained`; a refusal of our side is only counted.
 */
export function recordBounceEvent(db: Db, e: BounceEvent, policy: BouncePolicy): EventEffect {
  cachedStatement(
    db,
    `INSERT INTO bounce_events (subscriber_id, digest_id, kind, reason, status_code, detail, source, message_key, proof, domain, at, about)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(e.subscriberId, e.digestId, e.kind, e.reason, e.statusCode, String(e.detail).slice(0, 500), e.source, e.messageKey, e.proof, e.domain, e.at, e.about);
  const code = e.statusCode ? ` ${e.statusCode}` : "";
  const why = `${e.reason ?? e.kind}${code}, ${e.source}${e.proof ? ` (${e.proof})` : ""}`;
  let softInWindow: number | undefined;
  if (e.kind === "soft") {
    const since = new Date(Date.parse(e.at) - policy.softDays * 86400_000).toISOString();
    softInWindow = cachedStatement<[number, string], { n: number }>(
      db,
      // One per message sent: three copies of one report are one soft bounce.
      "SELECT count(DISTINCT coalesce(about, 'event:' || id)) AS n FROM bounce_events WHERE subscriber_id = ? AND kind = 'soft' AND at >= ?",
    ).get(e.subscriberId, since)!.n;
  }
  const status = suppressionFor(e.kind, softInWindow ?? 0, policy);
  if (!status) return { softInWindow };
  const reason =
    status === "complained" ? `complaint (${why})` : e.kind === "hard" ? `hard bounce: ${why}` : `${softInWindow} soft bounces in ${policy.softDays} days, the last: ${why}`;
  const r = applyConsentEvent(db, { id: e.subscriberId }, { type: status === "complained" ? "complaint" : "bounce" }, e.at, { reason });
  return { became: r.changed && r.status === status ? status : undefined, softInWindow };
}

export type BounceMessageOutcome = "applied" | "unrecognised" | "unverified" | "not-a-bounce";

/** What came of a bounce message read before, or undefined when it is new. */
export function bounceMessageOutcome(db: Db, key: string): BounceMessageOutcome | undefined {
  return db.prepare<[string], { outcome: BounceMessageOutcome }>("SELECT outcome FROM bounce_messages WHERE key = ?").get(key)?.outcome;
}

/** Remembers a bounce message as read, with what came of it (and, unverified, what it claimed). */
export function recordBounceMessage(db: Db, key: string, outcome: BounceMessageOutcome, detail: string, at: string, claims?: unknown): void {
  db.prepare(
    `INSERT INTO bounce_messages (key, read_at, outcome, detail, claims) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail, read_at = excluded.read_at, claims = excluded.claims`,
  ).run(key, at, outcome, detail.slice(0, 500), claims === undefined ? null : JSON.stringify(claims).slice(0, 4000));
}

/** Bounce, complaint and refusal counts per kind since `since`. */
export function countBounceEvents(db: Db, since: string): Record<EventKind, number> {
  const counts = { hard: 0, soft: 0, sender: 0, complaint: 0 };
  for (const r of db.prepare<[string], { kind: EventKind; n: number }>("SELECT kind, count(*) AS n FROM bounce_events WHERE at >= ? GROUP BY kind").all(since)) {
    counts[r.kind] = r.n;
  }
  return counts;
}

/** Refusals of our side per receiving domain since `since`, most first, each with the last server's words. */
export function senderRefusalsByDomain(db: Db, since: string, limit = 20): Array<{ domain: string; count: number; statusCode: string | null; detail: string; at: string }> {
  return db
    .prepare<[string, number], { domain: string; count: number; statusCode: string | null; detail: string; at: string }>(
      `SELECT coalesce(domain, '?') AS domain, count(*) AS count, max(at) AS at,
              (SELECT status_code FROM bounce_events l WHERE l.kind = 'sender' AND coalesce(l.domain, '?') = coalesce(e.domain, '?') ORDER BY l.at DESC LIMIT 1) AS statusCode,
              (SELECT detail FROM bounce_events l WHERE l.kind = 'sender' AND coalesce(l.domain, '?') = coalesce(e.domain, '?') ORDER BY l.at DESC LIMIT 1) AS detail
       FROM bounce_events e INDEXED BY bounce_events_by_kind WHERE kind = 'sender' AND at >= ?
       GROUP BY coalesce(domain, '?') ORDER BY count DESC LIMIT ?`,
    )
    .all(since, limit);
}

/** Bounce messages read since `since`, per outcome. */
export function countBounceMessages(db: Db, since: string): Record<BounceMessageOutcome, number> {
  const counts = { applied: 0, unrecognised: 0, unverified: 0, "not-a-bounce": 0 };
  for (const r of db.prepare<[string], { outcome: BounceMessageOutcome; n: number }>("SELECT outcome, count(*) AS n FROM bounce_messages WHERE read_at >= ? GROUP BY outcome").all(since)) {
    counts[r.outcome] = r.n;
  }
  return counts;
}

/** The latest reports that proved nothing, with what they claimed. */
export function listUnverifiedReports(db: Db, limit = 20): Array<{ key: string; readAt: string; detail: string; claims: unknown }> {
  return db
    .prepare<[number], { key: string; readAt: string; detail: string; claims: string | null }>(
      "SELECT key, read_at AS readAt, detail, claims FROM bounce_messages INDEXED BY bounce_messages_by_outcome WHERE outcome = 'unverified' ORDER BY read_at DESC LIMIT ?",
    )
    .all(limit)
    .map((r) => ({ ...r, claims: r.claims ? (JSON.parse(r.claims) as unknown) : null }));
}
