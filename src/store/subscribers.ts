import { fromStored, type ReaderChoices, type StoredChoices } from "../subscribers/choices.js";
import type { Db } from "./db.js";

export type SubscriberStatus = "pending" | "active" | "unsubscribed" | "bounced" | "complained";

/** Every status, in the order lists show them. */
export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = ["pending", "active", "unsubscribed", "bounced", "complained"];

/** Statuses that stop all mail and that only an operator can lift: the suppression list. */
export const SUPPRESSED: readonly SubscriberStatus[] = ["unsubscribed", "bounced", "complained"];

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
  /** Their cadence, topics, minimum of upvotes and format. */
  choices: ReaderChoices;
}

const COLUMNS =
  "id, email, status, source, created_at AS createdAt, confirmed_at AS confirmedAt, unsubscribed_at AS unsubscribedAt, suppressed_reason AS suppressedReason, suppressed_at AS suppressedAt, suppressed_by AS suppressedBy, " +
  "cadence, topics, min_upvotes AS minUpvotes, format";

type SubscriberRow = Omit<Subscriber, "choices"> & StoredChoices;

function fromRow(row: SubscriberRow): Subscriber {
  const { cadence, topics, minUpvotes, format, ...rest } = row;
  return { ...rest, choices: fromStored({ cadence, topics, minUpvotes, format }) };
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
 * Adds an address as active (confirmed) or pending. An existing address is left as
 * it is, except that `active` confirms a pending one. An address on the suppression
 * list (unsubscribed, bounced, complained) is never made active again unless
 * `reactivate` says the operator means it: it is "kept". Returns what happened.
 */
export function addSubscriber(
  db: Db,
  email: string,
  status: "active" | "pending",
  at: string,
  source = "cli",
  options: { reactivate?: boolean; choices?: Partial<ReaderChoices> } = {},
): "added" | "activated" | "reactivated" | "exists" | "kept" {
  const known = findSubscriberByEmail(db, email);
  if (!known) {
    const { id } = db
      .prepare<unknown[], { id: number }>("INSERT INTO subscribers (email, status, source, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?) RETURNING id")
      .get(email, status, source, at, status === "active" ? at : null)!;
    if (options.choices) setChoices(db, id, options.choices);
    return "added";
  }
  if (status !== "active" || known.status === "active") return "exists";
  const suppressed = SUPPRESSED.includes(known.status);
  if (suppressed && !options.reactivate) return "kept";
  activateSubscriber(db, known.id, at);
  return suppressed ? "reactivated" : "activated";
}

/**
 * Makes a subscriber active. The confirm token stays, so a link clicked again says
 * "already subscribed" instead of "not found".
 */
export function activateSubscriber(db: Db, id: number, at: string): void {
  db.prepare("UPDATE subscribers SET status = 'active', confirmed_at = ?, unsubscribed_at = NULL, suppressed_reason = NULL, suppressed_at = NULL, suppressed_by = NULL WHERE id = ?").run(
    at,
    id,
  );
}

/**
 * Stops all mail to a subscriber because it bounced or complained (or an operator
 * said so); true when the status changed. A complaint outranks a bounce.
 */
export function suppressSubscriber(
  db: Db,
  id: number,
  status: "bounced" | "complained" | "unsubscribed",
  reason: string,
  at: string,
  by: "operator" | null = null,
): boolean {
  const from = status === "complained" ? "('pending', 'active', 'unsubscribed', 'bounced')" : "('pending', 'active')";
  return (
    db
      .prepare(`UPDATE subscribers SET status = ?, suppressed_reason = ?, suppressed_at = ?, suppressed_by = ?, confirm_token_hash = NULL WHERE id = ? AND status IN ${from}`)
      .run(status, reason, at, by, id).changes > 0
  );
}

/** Unsubscribes; true when the status changed. Unsent deliveries are skipped at send time. */
export function unsubscribe(db: Db, id: number, at: string): boolean {
  // `at` may be earlier than now (an unsubscribe journalled while the database was busy):
  // it never undoes a subscription confirmed after it.
  return (
    db
      .prepare(
        "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, confirm_token_hash = NULL WHERE id = ? AND status != 'unsubscribed' AND (confirmed_at IS NULL OR confirmed_at <= ?)",
      )
      .run(at, id, at).changes > 0
  );
}

/**
 * Undoes a reader's own unsubscribe (from the link in their mail): active again, as
 * confirmed now, so that an unsubscribe still waiting in the journal (made before)
 * cannot undo it. Bounced, complained or suppressed readers stay as they are.
 */
export function undoUnsubscribe(db: Db, id: number, at: string): boolean {
  return (
    db
      .prepare("UPDATE subscribers SET status = 'active', confirmed_at = ?, unsubscribed_at = NULL WHERE id = ? AND status IN ('unsubscribed', 'active') AND suppressed_by IS NULL")
      .run(at, id).changes > 0
  );
}

/**
 * Changes what a reader chose; what is not given stays. A new cadence takes effect
 * at the next edition: their cursor (covered_through) makes it owe them exactly the
 * papers they were not offered yet.
 */
export function setChoices(db: Db, id: number, choices: Partial<ReaderChoices>): void {
  db.prepare(
    `UPDATE subscribers SET cadence = coalesce(?, cadence), topics = coalesce(?, topics), min_upvotes = coalesce(?, min_upvotes), format = coalesce(?, format) WHERE id = ?`,
  ).run(choices.cadence ?? null, choices.topics ? JSON.stringify(choices.topics) : null, choices.minUpvotes ?? null, choices.format ?? null, id);
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
 * Stores a new confirm token for a pending subscriber, unless one was sent within
 * `intervalMs`: true when the caller may send the confirmation email. The claim is
 * taken back (releaseConfirmation) when the mail server did not take the email.
 */
export function recordConfirmationSent(db: Db, id: number, tokenHash: string, now: Date, expires: Date, intervalMs: number): boolean {
  const since = new Date(now.getTime() - intervalMs).toISOString();
  return (
    db
      .prepare(
        `UPDATE subscribers SET confirm_token_hash = ?, confirm_expires_at = ?, confirm_sent_at = ?
         WHERE id = ? AND status = 'pending' AND (confirm_sent_at IS NULL OR confirm_sent_at <= ?)`,
      )
      .run(tokenHash, expires.toISOString(), now.toISOString(), id, since).changes > 0
  );
}

/** Takes back a confirmation claim whose email never reached the mail server: the next request may send again. */
export function releaseConfirmation(db: Db, id: number, sentAt: Date): void {
  db.prepare("UPDATE subscribers SET confirm_sent_at = NULL WHERE id = ? AND confirm_sent_at = ?").run(id, sentAt.toISOString());
}

/**
 * The subscriber a confirm token belongs to: pending with the token unexpired, or
 * already active through it (a link used twice).
 */
export function findByConfirmToken(db: Db, tokenHash: string, now: Date): Subscriber | undefined {
  const row = db
    .prepare<[string, string], SubscriberRow>(
      `SELECT ${COLUMNS} FROM subscribers WHERE confirm_token_hash = ? AND (status = 'active' OR (status = 'pending' AND confirm_expires_at > ?))`,
    )
    .get(tokenHash, now.toISOString());
  return row && fromRow(row);
}

/**
 * Moves someone who left or bounced back to pending, to confirm again by double
 * opt-in, with a confirmation email due at once. A complaint, or an address the operator suppressed, is never reopened
 * this way (only `suppressions remove` lifts them).
 */
export function reopenSubscription(db: Db, id: number): void {
  // A new pending episode: the one-confirmation-a-day limit guards against floods of
  // requests, not against a reader who comes back, so their confirmation goes at once.
  db.prepare(
    "UPDATE subscribers SET status = 'pending', confirm_sent_at = NULL, confirm_token_hash = NULL, confirm_expires_at = NULL WHERE id = ? AND status IN ('unsubscribed', 'bounced') AND suppressed_by IS NULL",
  ).run(id);
}

/** True when only the operator can bring this address back: they suppressed it, or its owner complained. */
export function isSuppressedForGood(sub: Pick<Subscriber, "status" | "suppressedBy">): boolean {
  return sub.status === "complained" || (SUPPRESSED.includes(sub.status) && sub.suppressedBy === "operator");
}

/** Puts an address never on the list straight onto the suppression list (as unsubscribed, with the reason). */
export function addSuppressedAddress(db: Db, email: string, reason: string, at: string): void {
  db.prepare(
    "INSERT INTO subscribers (email, status, source, created_at, unsubscribed_at, suppressed_reason, suppressed_at, suppressed_by) VALUES (?, 'unsubscribed', 'suppression', ?, ?, ?, ?, 'operator')",
  ).run(email, at, at, reason, at);
}

/**
 * Takes an address off the suppression list: it becomes pending (nobody is made
 * active) and its old bounces no longer count against a fresh start.
 */
export function liftSuppression(db: Db, id: number): void {
  db.transaction(() => {
    db.prepare("UPDATE subscribers SET status = 'pending', suppressed_reason = NULL, suppressed_at = NULL, suppressed_by = NULL, unsubscribed_at = NULL, confirm_sent_at = NULL WHERE id = ?").run(id);
    db.prepare("DELETE FROM bounce_events WHERE subscriber_id = ?").run(id);
  })();
}
