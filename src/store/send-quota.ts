import { cachedStatement, type Db } from "./db.js";

/*
 * The relays' limits, shared by every sender through the database: each daily quota
 * as sends per minute (send_buckets, per counter), the rate as the next free slot (send_pace).
 */

/** The counter of every relay together (PAPERMAIL_SMTP_DAILY_LIMIT); a relay's own limit counts under its name. */
export const ALL_RELAYS = "";

const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/** Counts one message against a rolling 24-hour quota. */
export function countAgainstQuota(db: Db, nowMs: number, counter = ALL_RELAYS): void {
  cachedStatement(db, "INSERT INTO send_buckets (counter, minute, sent) VALUES (?, ?, 1) ON CONFLICT (counter, minute) DO UPDATE SET sent = sent + 1").run(counter, minuteOf(nowMs));
}

/** When a rolling 24-hour quota allows another message, or undefined when it does now. */
export function quotaResumesAt(db: Db, daily: number, nowMs: number, counter = ALL_RELAYS): string | undefined {
  const used = sentInLastDay(db, nowMs, counter);
  if (used < daily) return undefined;
  // The quota frees up as the oldest minutes leave the window.
  let freed = 0;
  for (const b of cachedStatement<[string, number], { minute: number; sent: number }>(db, "SELECT minute, sent FROM send_buckets WHERE counter = ? AND minute > ? ORDER BY minute").all(counter, minuteOf(nowMs) - 1440)) {
    freed += b.sent;
    if (used - freed < daily) return new Date((b.minute + 1441) * 60_000).toISOString();
  }
  return new Date(nowMs + 86400_000).toISOString();
}

/** Messages counted against a quota in the 24 hours before `nowMs`. */
export function sentInLastDay(db: Db, nowMs: number, counter = ALL_RELAYS): number {
  return cachedStatement<[string, number], { n: number }>(db, "SELECT coalesce(sum(sent), 0) AS n FROM send_buckets WHERE counter = ? AND minute > ?").get(counter, minuteOf(nowMs) - 1440)!.n;
}

/** Forgets quota minutes older than a day: they count for nothing any more. */
export function pruneSendBuckets(db: Db, now: Date): void {
  db.prepare("DELETE FROM send_buckets WHERE minute <= ?").run(minuteOf(now.getTime()) - 1441);
}

/**
 * A message that never went out gives its place in a quota back: the quota counts what
 * the relay took, so a run stopped mid-claim still uses all of it. The place is taken
 * from the newest minute, as near the claim's as the counts can tell.
 */
export function giveBackQuotaSlot(db: Db, counter = ALL_RELAYS): void {
  cachedStatement(db, "UPDATE send_buckets SET sent = sent - 1 WHERE counter = ? AND minute = (SELECT max(minute) FROM send_buckets WHERE counter = ? AND sent > 0)").run(counter, counter);
}

/** The next free slot of the shared send rate (epoch ms), taken. */
export function takeSendSlot(db: Db, rate: number, nowMs: number): number {
  const row = cachedStatement<[], { next: number }>(db, "SELECT next_slot_ms AS next FROM send_pace WHERE id = 1").get();
  const slot = Math.max(nowMs, row?.next ?? 0);
  cachedStatement(db, "INSERT INTO send_pace (id, next_slot_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET next_slot_ms = excluded.next_slot_ms").run(slot + 1000 / rate);
  return slot;
}
