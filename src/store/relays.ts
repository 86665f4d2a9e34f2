import type { RelaySpec } from "../config/relays.js";
import { cachedStatement, type Db } from "./db.js";

/*
 * Each relay's daily count (relay_buckets) and state (relay_state), shared by every
 * process through the database: the sender fails over by them, and status, the
 * console and /metrics show them.
 */

export type RelayCondition = "up" | "down" | "over-quota";

export interface StoredRelayState {
  relay: string;
  state: RelayCondition;
  /** Until when it is passed over (ISO), for down and over-quota. */
  until: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  changedAt: string;
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/** Counts one message against a relay's rolling 24 hours. */
export function countRelaySend(db: Db, relay: string, nowMs: number): void {
  cachedStatement(db, "INSERT INTO relay_buckets (relay, minute, sent) VALUES (?, ?, 1) ON CONFLICT (relay, minute) DO UPDATE SET sent = sent + 1").run(relay, minuteOf(nowMs));
}

/** A message the relay did not take gives its place back (from the newest minute). */
export function giveBackRelaySend(db: Db, relay: string): void {
  cachedStatement(db, "UPDATE relay_buckets SET sent = sent - 1 WHERE relay = ? AND minute = (SELECT max(minute) FROM relay_buckets WHERE relay = ? AND sent > 0)").run(relay, relay);
}

/** Messages a relay took in the 24 hours before `nowMs`. */
export function relaySentInLastDay(db: Db, relay: string, nowMs: number): number {
  return cachedStatement<[string, number], { n: number }>(db, "SELECT coalesce(sum(sent), 0) AS n FROM relay_buckets WHERE relay = ? AND minute > ?").get(relay, minuteOf(nowMs) - 1440)!.n;
}

/** When a relay at its daily limit takes messages again. */
export function relayQuotaFreesAt(db: Db, relay: string, daily: number, nowMs: number): number {
  const used = relaySentInLastDay(db, relay, nowMs);
  let freed = 0;
  for (const b of cachedStatement<[string, number], { minute: number; sent: number }>(db, "SELECT minute, sent FROM relay_buckets WHERE relay = ? AND minute > ? ORDER BY minute").all(relay, minuteOf(nowMs) - 1440)) {
    freed += b.sent;
    if (used - freed < daily) return (b.minute + 1441) * 60_000;
  }
  return nowMs + 86400_000;
}

/** Records a relay's state; the last error stays until another comes. */
export function setRelayState(db: Db, relay: string, state: RelayCondition, at: string, detail: { until?: string; error?: string } = {}): void {
  cachedStatement(
    db,
    `INSERT INTO relay_state (relay, state, until, last_error, last_error_at, changed_at) VALUES (:relay, :state, :until, :error, :errorAt, :at)
     ON CONFLICT (relay) DO UPDATE SET state = excluded.state, until = excluded.until,
       last_error = coalesce(excluded.last_error, last_error), last_error_at = coalesce(excluded.last_error_at, last_error_at), changed_at = excluded.changed_at`,
  ).run({ relay, state, until: detail.until ?? null, error: detail.error ?? null, errorAt: detail.error ? at : null, at });
}

/** Every relay's stored state. */
export function relayStates(db: Db): StoredRelayState[] {
  return cachedStatement<[], StoredRelayState>(
    db,
    "SELECT relay, state, until, last_error AS lastError, last_error_at AS lastErrorAt, changed_at AS changedAt FROM relay_state ORDER BY relay",
  ).all();
}

/** Forgets relay minutes older than a day. */
export function pruneRelayBuckets(db: Db, now: Date): void {
  db.prepare("DELETE FROM relay_buckets WHERE minute <= ?").run(minuteOf(now.getTime()) - 1441);
}

/** A relay as status, the console and /metrics show it. */
export interface RelayReport {
  relay: string;
  /** up, down (passed over after a failure) or over-quota; a pause that is over reads as up. */
  state: RelayCondition;
  until: string | null;
  rate: number | null;
  dailyLimit: number | null;
  /** Messages it took in the last 24 hours (counted with a daily limit of its own), else null. */
  sentLast24h: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** Each configured relay, in order of preference, with its stored state. */
export function relayReports(db: Db, relays: readonly RelaySpec[], now: Date): RelayReport[] {
  const stored = new Map(relayStates(db).map((s) => [s.relay, s]));
  return relays.map((spec) => {
    const s = stored.get(spec.name);
    const paused = s && s.state !== "up" && s.until !== null && Date.parse(s.until) > now.getTime();
    return {
      relay: spec.name,
      state: paused ? s.state : "up",
      until: paused ? s.until : null,
      rate: spec.rate ?? null,
      dailyLimit: spec.daily ?? null,
      sentLast24h: spec.daily !== undefined ? relaySentInLastDay(db, spec.name, now.getTime()) : null,
      lastError: s?.lastError ?? null,
      lastErrorAt: s?.lastErrorAt ?? null,
    };
  });
}
