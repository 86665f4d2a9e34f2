import type { RelaySpec } from "../config/relays.js";
import { cachedStatement, type Db } from "./db.js";
import { sentInLastDay } from "./send-quota.js";

/*
 * Each relay's state (relay_state; its daily count is send-quota's, under its name), shared by every
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
      sentLast24h: spec.daily !== undefined ? sentInLastDay(db, now.getTime(), spec.name) : null,
      lastError: s?.lastError ?? null,
      lastErrorAt: s?.lastErrorAt ?? null,
    };
  });
}
