import { CONFIRMATION_LIMITS, CONSENT_EVENTS, decideConsent, type ConsentColumn, type ConsentEvent, type ConsentStatus } from "../model/consent.js";
import { cachedStatement, type Db } from "./db.js";

/**
 * The only writer of a reader's status (src/model/consent.ts holds the rules): every
 * path hands its event in here, and the decision, the write and the record of the
 * event are one transaction.
 */

/** Who an event is about: a reader by id, or an address (which may not be on the list yet). */
export type ConsentTarget = { id: number } | { email: string; source: string };

/** What a path adds to its event. */
export interface ConsentInput {
  /** Why (a bounce's reason, the operator's words): kept as the suppression reason and in the record. */
  reason?: string;
  /** For a request: the new confirm token's hash and expiry, stored if a confirmation may go. */
  confirmation?: { tokenHash: string; expiresAt: string; client: string | null };
}

export interface ConsentResult {
  subscriberId: number | undefined;
  before: ConsentColumn;
  after: ConsentColumn;
  status: ConsentStatus | undefined;
  changed: boolean;
  refused: boolean;
  why?: string;
  /** For a request: whether a confirmation email may go now ("claimed"), or which limit said no. */
  confirmation?: "claimed" | "not allowed" | "recently sent" | "client limit";
}

interface Row {
  id: number;
  status: ConsentStatus;
  held: number;
  unsubscribedBy: "reader" | "operator" | null;
  unsubscribedAt: string | null;
  confirmedAt: string | null;
}

/** Applies one consent event at `at`; see CONSENT_TABLE for what each does. */
export function applyConsentEvent(db: Db, target: ConsentTarget, event: ConsentEvent, at: string, input: ConsentInput = {}): ConsentResult {
  return db.transaction(() => apply(db, target, event, at, input)).immediate();
}

function apply(db: Db, target: ConsentTarget, event: ConsentEvent, at: string, input: ConsentInput): ConsentResult {
  const found =
    "id" in target
      ? cachedStatement<[number], Row>(db, `SELECT ${STATE} FROM subscribers WHERE id = ?`).get(target.id)
      : cachedStatement<[string], Row>(db, `SELECT ${STATE} FROM subscribers WHERE email = ?`).get(target.email);
  const state = {
    status: found?.status,
    held: Boolean(found?.held),
    unsubscribedBy: found?.unsubscribedBy ?? null,
    unsubscribedAt: found?.unsubscribedAt ?? null,
    confirmedAt: found?.confirmedAt ?? null,
  };
  const d = decideConsent(state, event, at);
  const result: ConsentResult = {
    subscriberId: found?.id,
    before: d.column,
    after: d.held ? "suppressed" : (d.status ?? "new"),
    status: d.status,
    changed: d.changed,
    refused: d.cell.to === "refused",
    why: d.why,
  };
  if (!found) {
    if (d.status === undefined || "id" in target) return result;
    result.subscriberId = insertSubscriber(db, target, d.status, d.held, at, input.reason);
  } else if (d.changed) {
    write(db, found.id, event.type, d.status!, at, input.reason);
  }
  if (found && !result.refused && VOIDS_CONFIRMATION.has(event.type)) {
    // Also when nothing else changes: a confirmation sent before a "stop" confirms nothing.
    cachedStatement(db, "UPDATE subscribers SET confirm_token_hash = NULL WHERE id = ? AND confirm_token_hash IS NOT NULL AND status != 'active'").run(found.id);
  }
  const id = result.subscriberId!;
  if (d.cell.mail) result.confirmation = input.confirmation ? claimConfirmation(db, id, at, input.confirmation) : "not allowed";
  else if (event.type === "request") result.confirmation = "not allowed";
  cachedStatement(
    db,
    "INSERT INTO consent_events (subscriber_id, at, event, actor, from_status, to_status, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(id, at, event.type, CONSENT_EVENTS[event.type].actor, result.before, result.after, result.refused ? "refused" : d.changed ? "changed" : "same", detailOf(result, input));
  return result;
}

/** Events after which a confirmation link sent before them must no longer work. */
const VOIDS_CONFIRMATION: ReadonlySet<ConsentEvent["type"]> = new Set(["unsubscribe", "remove", "bounce", "complaint", "suppress"]);

const STATE =
  "id, status, suppressed_by = 'operator' AS held, unsubscribed_by AS unsubscribedBy, unsubscribed_at AS unsubscribedAt, confirmed_at AS confirmedAt";

function detailOf(result: ConsentResult, input: ConsentInput): string | null {
  const parts = [input.reason, result.why, result.confirmation && result.confirmation !== "not allowed" ? `confirmation: ${result.confirmation}` : undefined];
  const text = parts.filter(Boolean).join("; ");
  return text ? text.slice(0, 500) : null;
}

function insertSubscriber(db: Db, target: { email: string; source: string }, status: ConsentStatus, held: boolean, at: string, reason: string | undefined): number {
  return db
    .prepare<unknown[], { id: number }>(
      `INSERT INTO subscribers (email, status, source, created_at, confirmed_at, unsubscribed_at, unsubscribed_by, suppressed_reason, suppressed_at, suppressed_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(
      target.email,
      status,
      target.source,
      at,
      status === "active" ? at : null,
      status === "unsubscribed" ? at : null,
      status === "unsubscribed" ? "operator" : null,
      held ? (reason ?? "added by the operator") : null,
      held ? at : null,
      held ? "operator" : null,
    )!.id;
}

/** The columns each kind of change writes. */
function write(db: Db, id: number, type: ConsentEvent["type"], status: ConsentStatus, at: string, reason: string | undefined): void {
  const run = (sql: string, ...params: unknown[]) => cachedStatement(db, `UPDATE subscribers SET ${sql} WHERE id = ?`).run(...params, id);
  switch (type) {
    case "confirm":
    case "add":
    case "reactivate":
    case "undo":
      // The confirm token stays: a confirmation link clicked again says "already subscribed".
      return void run(
        "status = 'active', confirmed_at = ?, unsubscribed_at = NULL, unsubscribed_by = NULL, suppressed_reason = NULL, suppressed_at = NULL, suppressed_by = NULL",
        at,
      );
    case "request":
      return void run("status = ?", status);
    case "unsubscribe":
    case "remove":
      // A confirmation sent before the unsubscribe no longer confirms anything.
      return void run("status = 'unsubscribed', unsubscribed_at = ?, unsubscribed_by = ?, confirm_token_hash = NULL", at, type === "remove" ? "operator" : "reader");
    case "bounce":
    case "complaint":
      return void run("status = ?, suppressed_reason = ?, suppressed_at = ?, confirm_token_hash = NULL", status, reason ?? type, at);
    case "suppress":
      return void run(
        `status = ?, suppressed_reason = ?, suppressed_at = ?, suppressed_by = 'operator', confirm_token_hash = NULL,
         unsubscribed_at = CASE WHEN status IN ('pending', 'active') THEN ? ELSE unsubscribed_at END,
         unsubscribed_by = CASE WHEN status IN ('pending', 'active') THEN 'operator' ELSE unsubscribed_by END`,
        status,
        reason ?? "added by the operator",
        at,
        at,
      );
    case "lift":
      // A fresh start: old bounces no longer count against the address.
      cachedStatement(db, "DELETE FROM bounce_events WHERE subscriber_id = ?").run(id);
      return void run(
        "status = 'pending', suppressed_reason = NULL, suppressed_at = NULL, suppressed_by = NULL, unsubscribed_at = NULL, unsubscribed_by = NULL, confirm_token_hash = NULL",
      );
  }
}

/**
 * Takes a place in the confirmation limits and stores the new token, unless a limit
 * is reached. The place is given back (releaseConfirmation) when the mail server did
 * not take the email.
 */
function claimConfirmation(db: Db, id: number, at: string, c: NonNullable<ConsentInput["confirmation"]>): ConsentResult["confirmation"] {
  const now = Date.parse(at);
  for (const limit of CONFIRMATION_LIMITS.perAddress) {
    const since = new Date(now - limit.windowMs).toISOString();
    const n = cachedStatement<[number, string], { n: number }>(db, "SELECT count(*) AS n FROM confirmation_sends WHERE subscriber_id = ? AND sent_at > ?").get(id, since)!.n;
    if (n >= limit.count) return "recently sent";
  }
  if (c.client !== null) {
    const { count, windowMs } = CONFIRMATION_LIMITS.perClient;
    const since = new Date(now - windowMs).toISOString();
    const n = cachedStatement<[string, string], { n: number }>(db, "SELECT count(*) AS n FROM confirmation_sends WHERE client = ? AND sent_at > ?").get(c.client, since)!.n;
    if (n >= count) return "client limit";
  }
  cachedStatement(db, "INSERT INTO confirmation_sends (subscriber_id, client, sent_at) VALUES (?, ?, ?)").run(id, c.client, at);
  cachedStatement(db, "UPDATE subscribers SET confirm_token_hash = ?, confirm_expires_at = ?, confirm_sent_at = ? WHERE id = ?").run(c.tokenHash, c.expiresAt, at, id);
  return "claimed";
}

/** Gives back a confirmation's place in the limits: its email never reached the mail server. */
export function releaseConfirmation(db: Db, id: number, sentAt: string): void {
  db.transaction(() => {
    cachedStatement(db, "DELETE FROM confirmation_sends WHERE subscriber_id = ? AND sent_at = ?").run(id, sentAt);
    cachedStatement(db, "UPDATE subscribers SET confirm_sent_at = NULL, confirm_token_hash = NULL WHERE id = ? AND confirm_sent_at = ?").run(id, sentAt);
  })();
}

/** Forgets confirmation records older than the longest limit: they count for nothing any more. */
export function pruneConfirmationSends(db: Db, now: Date): void {
  const longest = Math.max(...CONFIRMATION_LIMITS.perAddress.map((l) => l.windowMs), CONFIRMATION_LIMITS.perClient.windowMs);
  db.prepare("DELETE FROM confirmation_sends WHERE sent_at <= ?").run(new Date(now.getTime() - longest).toISOString());
}

/**
 * Why no mail of any kind may go to an address (a test copy, an alert), or undefined:
 * the operator suppressed it, its owner complained, or mail to it bounced.
 */
export function mailRefusal(db: Db, email: string): string | undefined {
  const row = cachedStatement<[string], { status: ConsentStatus; held: number | null }>(db, "SELECT status, suppressed_by = 'operator' AS held FROM subscribers WHERE email = ?").get(email);
  if (!row) return undefined;
  if (row.held) return `${email} is on the suppression list by your decision: no mail of any kind goes to it ('papermail suppressions remove' lifts it)`;
  if (row.status === "complained") return `${email} reported the digest as spam: no mail of any kind goes to it`;
  if (row.status === "bounced") return `mail to ${email} bounced: no mail of any kind goes to it`;
  return undefined;
}

/** A reader's consent events, newest first: for the console and `subscribers history`. */
export function listConsentEvents(
  db: Db,
  subscriberId: number,
  limit = 50,
): Array<{ at: string; event: string; actor: string; fromStatus: string | null; toStatus: string | null; outcome: string; detail: string | null }> {
  return db
    .prepare<[number, number], { at: string; event: string; actor: string; fromStatus: string | null; toStatus: string | null; outcome: string; detail: string | null }>(
      "SELECT at, event, actor, from_status AS fromStatus, to_status AS toStatus, outcome, detail FROM consent_events WHERE subscriber_id = ? ORDER BY id DESC LIMIT ?",
    )
    .all(subscriberId, limit);
}
