import { cachedStatement, type Db } from "./db.js";

/** A problem an operator should hear about, as stored. */
export interface StoredAlert {
  kind: string;
  message: string;
  raisedAt: string;
  seenAt: string;
  clearedAt: string | null;
  mailedOn: string | null;
}

const COLUMNS = "kind, message, raised_at AS raisedAt, seen_at AS seenAt, cleared_at AS clearedAt, mailed_on AS mailedOn";

/** Records that a problem is there now: raised if it was not (returns true), its message and time refreshed if it was. */
export function raiseAlert(db: Db, kind: string, message: string, at: string): boolean {
  const before = cachedStatement<[string], { cleared: string | null }>(db, "SELECT cleared_at AS cleared FROM alerts WHERE kind = ?").get(kind);
  cachedStatement(
    db,
    `INSERT INTO alerts (kind, message, raised_at, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind) DO UPDATE SET message = excluded.message, seen_at = excluded.seen_at,
         raised_at = CASE WHEN alerts.cleared_at IS NULL THEN alerts.raised_at ELSE excluded.raised_at END, cleared_at = NULL`,
  ).run(kind, message, at, at);
  return before === undefined || before.cleared !== null;
}

/** Clears the raised alerts whose kind is not among those found now; returns them. */
export function clearAlertsExcept(db: Db, kinds: readonly string[], at: string): StoredAlert[] {
  const gone = activeAlerts(db).filter((a) => !kinds.includes(a.kind));
  for (const a of gone) cachedStatement(db, "UPDATE alerts SET cleared_at = ? WHERE kind = ?").run(at, a.kind);
  return gone;
}

/** Alerts raised and not cleared, oldest first. */
export function activeAlerts(db: Db): StoredAlert[] {
  return cachedStatement<[], StoredAlert>(db, `SELECT ${COLUMNS} FROM alerts WHERE cleared_at IS NULL ORDER BY raised_at`).all();
}

/** Claims today's mail for an alert: false when it was already mailed today (by any process). */
export function claimAlertMail(db: Db, kind: string, day: string): boolean {
  return cachedStatement(db, "UPDATE alerts SET mailed_on = ? WHERE kind = ? AND (mailed_on IS NULL OR mailed_on <> ?)").run(day, kind, day).changes > 0;
}

/** Gives today's mail claim back (the mail did not leave). */
export function releaseAlertMail(db: Db, kind: string): void {
  cachedStatement(db, "UPDATE alerts SET mailed_on = NULL WHERE kind = ?").run(kind);
}
