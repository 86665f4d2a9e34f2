import { CONSENT_STATUSES, SUPPRESSED_STATUSES, type ConsentStatus } from "../model/consent.js";
import { fromStored, type ReaderChoices, type StoredChoices } from "../model/choices.js";
import type { Db } from "./db.js";

/**
 * Subscribers as stored: reading them, their choices, forgetting them. Their status
 * is written by store/consent.ts alone.
 */

export type SubscriberStatus = ConsentStatus;

/** Every status, in the order lists show them. */
export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = CONSENT_STATUSES;

/** Statuses that stop all mail: the suppression list. */
export const SUPPRESSED: readonly SubscriberStatus[] = SUPPRESSED_STATUSES;

/** A person on the list. */
export interface Subscriber {
  id: number;
  email: string;
  status: SubscriberStatus;
  source: string;
  createdAt: string;
  confirmedAt: string | null;
  unsubscribedAt: string | null;
  /** Why mail stopped for a bounced, complained or suppressed address. */
  suppressedReason: string | null;
  suppressedAt: string | null;
  /** "operator" for an address put on the suppression list by hand: only `suppressions remove` lifts it. */
  suppressedBy: string | null;
  /** Who made the latest unsubscribe: only a reader's own can be undone. */
  unsubscribedBy: "reader" | "operator" | null;
  /** Their cadence, topics, minimum of upvotes and format. */
  choices: ReaderChoices;
}

const COLUMNS =
  "id, email, status, source, created_at AS createdAt, confirmed_at AS confirmedAt, unsubscribed_at AS unsubscribedAt, suppressed_reason AS suppressedReason, suppressed_at AS suppressedAt, suppressed_by AS suppressedBy, unsubscribed_by AS unsubscribedBy, " +
  "cadence, topics, min_upvotes AS minUpvotes, format, also_trending AS alsoTrending";

type SubscriberRow = Omit<Subscriber, "choices"> & StoredChoices;

function fromRow(row: SubscriberRow): Subscriber {
  const { cadence, topics, minUpvotes, format, alsoTrending, ...rest } = row;
  return { ...rest, choices: fromStored({ cadence, topics, minUpvotes, format, alsoTrending }) };
}

/** The subscriber with this id. */
export function findSubscriberById(db: Db, id: number): Subscriber | undefined {
  const row = db.prepare<[number], SubscriberRow>(`SELECT ${COLUMNS} FROM subscribers WHERE id = ?`).get(id);
  return row && fromRow(row);
}

/** The subscriber with this (normalised) address. */
export function findSubscriberByEmail(db: Db, email: string): Subscriber | undefined {
  const row = db.prepare<[string], SubscriberRow>(`SELECT ${COLUMNS} FROM subscribers WHERE email = ?`).get(email);
  return row && fromRow(row);
}

/**
 * Changes what a reader chose; what is not given stays. A new cadence takes effect
 * at the next edition: their cursor (covered_through) makes it owe them exactly the
 * papers they were not offered yet.
 */
export function setChoices(db: Db, id: number, choices: Partial<ReaderChoices>): void {
  db.prepare(
    `UPDATE subscribers SET cadence = coalesce(?, cadence), topics = coalesce(?, topics), min_upvotes = coalesce(?, min_upvotes), format = coalesce(?, format),
       also_trending = coalesce(?, also_trending) WHERE id = ?`,
  ).run(choices.cadence ?? null, choices.topics ? JSON.stringify(choices.topics) : null, choices.minUpvotes ?? null, choices.format ?? null, choices.alsoTrending ?? null, id);
}

/** All subscribers, optionally of one status, oldest first. */
export function listSubscribers(db: Db, status?: SubscriberStatus): Subscriber[] {
  const rows = status
    ? db.prepare<[string], SubscriberRow>(`SELECT ${COLUMNS} FROM subscribers WHERE status = ? ORDER BY id`).all(status)
    : db.prepare<[], SubscriberRow>(`SELECT ${COLUMNS} FROM subscribers ORDER BY id`).all();
  return rows.map(fromRow);
}

/** Subscribers per status. */
export function countSubscribers(db: Db): Record<SubscriberStatus, number> {
  const counts: Record<SubscriberStatus, number> = { pending: 0, active: 0, unsubscribed: 0, bounced: 0, complained: 0 };
  for (const row of db.prepare<[], { status: SubscriberStatus; n: number }>("SELECT status, count(*) AS n FROM subscribers GROUP BY status").all()) {
    counts[row.status] = row.n;
  }
  return counts;
}

/** Deletes a subscriber and their ledger rows: for someone who asks to be forgotten. */
export function forgetSubscriber(db: Db, id: number): void {
  db.transaction(() => {
    db.prepare("DELETE FROM deliveries WHERE subscriber_id = ?").run(id);
    db.prepare("DELETE FROM subscribers WHERE id = ?").run(id);
  })();
}

/**
 * The subscriber a confirm token belongs to: the token unexpired (any unsubscribe,
 * bounce or complaint since it was sent has cleared it), or already active through it
 * (a link used twice). Never an address the operator suppressed.
 */
export function findByConfirmToken(db: Db, tokenHash: string, now: Date): Subscriber | undefined {
  const row = db
    .prepare<[string, string], SubscriberRow>(
      `SELECT ${COLUMNS} FROM subscribers WHERE confirm_token_hash = ? AND suppressed_by IS NULL AND (status = 'active' OR confirm_expires_at > ?)`,
    )
    .get(tokenHash, now.toISOString());
  return row && fromRow(row);
}

