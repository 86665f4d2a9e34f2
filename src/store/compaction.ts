import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Db } from "./db.js";

/** What compaction did. */
export interface CompactionResult {
  digests: number;
  rows: number;
}

/**
 * Replaces the per-recipient ledger rows of digests finished before `before` by
 * per-digest counts (digest_totals), and drops their groups. Rows go in small transactions, with the event
 * loop let through between them, so a send in this or another process never waits
 * long. Signed unsubscribe links need no row, so old mail keeps working.
 */
export async function compactLedger(
  db: Db,
  before: string,
  at: string,
  options: { batch?: number; onDigest?: (id: number, rows: number) => void } = {},
): Promise<CompactionResult> {
  const batch = options.batch ?? 1000;
  // Digests not compacted yet, and any a stopped run left with rows after counting them.
  const digests = db
    .prepare<[string], { id: number; counted: number }>(
      `SELECT id, id IN (SELECT digest_id FROM digest_totals) AS counted FROM digests d
       WHERE status = 'done' AND finished_at < ?
         AND (id NOT IN (SELECT digest_id FROM digest_totals) OR EXISTS (SELECT 1 FROM deliveries WHERE digest_id = d.id))
       ORDER BY id`,
    )
    .all(before);
  const totals = db.prepare(
    `INSERT INTO digest_totals (digest_id, sent, failed, unknown, skipped, compacted_at)
     SELECT ?, count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed'),
            count(*) FILTER (WHERE status = 'unknown'), count(*) FILTER (WHERE status = 'skipped'), ?
     FROM deliveries WHERE digest_id = ?`,
  );
  const remove = db.prepare("DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries WHERE digest_id = ? LIMIT ?)");
  // A group's papers are needed only to send to it: with the rows, the groups go too.
  const removeGroups = db.prepare("DELETE FROM digest_groups WHERE digest_id = ?");
  let rows = 0;
  for (const { id, counted } of digests) {
    if (!counted) db.transaction(() => totals.run(id, at, id)).immediate();
    let removed = 0;
    for (;;) {
      const n = db.transaction(() => remove.run(id, batch).changes).immediate();
      removed += n;
      if (n < batch) break;
      await yieldToEventLoop();
    }
    db.transaction(() => removeGroups.run(id)).immediate();
    rows += removed;
    options.onDigest?.(id, removed);
  }
  return { digests: digests.length, rows };
}

/** Ledger rows still kept, and digests whose rows were compacted. */
export function ledgerSize(db: Db): { rows: number; compactedDigests: number } {
  return db.prepare<[], { rows: number; compactedDigests: number }>("SELECT (SELECT count(*) FROM deliveries) AS rows, (SELECT count(*) FROM digest_totals) AS compactedDigests").get()!;
}
