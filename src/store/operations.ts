import { cachedStatement, type Db } from "./db.js";
import { readSetting, writeSetting } from "./settings.js";

/** The state of the installation in counts, read at once: what /metrics and the alarms look at. */
export interface OperationsSnapshot {
  /** Ledger rows by status, with the counts of digests whose rows were compacted. */
  deliveries: Record<string, number>;
  queued: number;
  /** The oldest queued row's last change (ISO), or null with an empty queue. */
  oldestQueuedAt: string | null;
  digests: Record<string, number>;
  bounceEvents: Record<string, number>;
  /** Our sender refused, by receiving domain (the 50 domains with the most). */
  senderRefusals: Array<{ domain: string; count: number }>;
  subscribers: Record<string, number>;
  papers: { stored: number; waiting: number };
  dumps: { ingested: number; rejected: number };
  lastIngestAt: string | null;
  lastFetchAt: string | null;
  /** The last fetch run, whether it worked or not, and how many failed in a row. */
  lastFetchTryAt: string | null;
  fetchFailures: number;
}

/** Reads the counts of everything an operator watches. */
export function readOperations(db: Db): OperationsSnapshot {
  const grouped = (sql: string) => Object.fromEntries(cachedStatement<[], { k: string; n: number }>(db, sql).all().map((r) => [r.k, r.n]));
  const deliveries = grouped("SELECT status AS k, count(*) AS n FROM deliveries GROUP BY status");
  const compacted = cachedStatement<[], { sent: number; failed: number; unknown: number; skipped: number }>(
    db,
    "SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(failed), 0) AS failed, coalesce(sum(unknown), 0) AS unknown, coalesce(sum(skipped), 0) AS skipped FROM digest_totals",
  ).get()!;
  for (const [status, n] of Object.entries(compacted)) deliveries[status] = (deliveries[status] ?? 0) + n;
  const queue = cachedStatement<[], { n: number; oldest: string | null }>(db, "SELECT count(*) AS n, min(updated_at) AS oldest FROM deliveries WHERE status = 'queued'").get()!;
  const papers = cachedStatement<[], { stored: number; waiting: number }>(db, "SELECT (SELECT count(*) FROM papers) AS stored, (SELECT count(*) FROM waiting_papers) AS waiting").get()!;
  const dumps = cachedStatement<[], { ingested: number; rejected: number; last: string | null }>(
    db,
    "SELECT count(*) FILTER (WHERE status = 'ingested') AS ingested, count(*) FILTER (WHERE status = 'rejected') AS rejected, max(ingested_at) FILTER (WHERE status = 'ingested') AS last FROM dumps",
  ).get()!;
  return {
    deliveries,
    queued: queue.n,
    oldestQueuedAt: queue.oldest,
    digests: grouped("SELECT edition AS k, count(*) AS n FROM digests GROUP BY edition"),
    bounceEvents: grouped("SELECT kind AS k, count(*) AS n FROM bounce_events GROUP BY kind"),
    senderRefusals: cachedStatement<[], { domain: string; count: number }>(
      db,
      "SELECT coalesce(domain, '?') AS domain, count(*) AS count FROM bounce_events WHERE kind = 'sender' GROUP BY domain ORDER BY count DESC LIMIT 50",
    ).all(),
    subscribers: grouped("SELECT status AS k, count(*) AS n FROM subscribers GROUP BY status"),
    papers,
    dumps: { ingested: dumps.ingested, rejected: dumps.rejected },
    lastIngestAt: dumps.last,
    lastFetchAt: readSetting(db, LAST_FETCH_OK) ?? null,
    lastFetchTryAt: readSetting(db, LAST_FETCH_TRY) ?? null,
    fetchFailures: fetchFailuresInARow(db),
  };
}

const LAST_FETCH_OK = "last_fetch_ok";
const LAST_FETCH_TRY = "last_fetch_try";
const FETCH_FAILURES = "fetch_failures_in_a_row";

/** Records how a fetch run went: a success resets the count of failures in a row. */
export function recordFetchRun(db: Db, at: string, failed: boolean): number {
  writeSetting(db, LAST_FETCH_TRY, at);
  if (!failed) {
    writeSetting(db, LAST_FETCH_OK, at);
    writeSetting(db, FETCH_FAILURES, "0");
    return 0;
  }
  const failures = Number(readSetting(db, FETCH_FAILURES) ?? "0") + 1;
  writeSetting(db, FETCH_FAILURES, String(failures));
  return failures;
}

/** How many fetch runs in a row failed (0 after a success). */
export function fetchFailuresInARow(db: Db): number {
  return Number(readSetting(db, FETCH_FAILURES) ?? "0");
}
