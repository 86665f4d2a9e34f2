import type { Config } from "../config.js";
import { bounceMessageOutcome, recordBounceEvent, recordBounceMessage } from "../store/bounces.js";
import type { Db } from "../store/db.js";
import { resolveSecrets } from "../store/settings.js";
import { findSubscriberByEmail, findSubscriberById } from "../store/subscribers.js";
import { checkAddress } from "../model/address.js";
import type { Clock } from "../util/time.js";
import { readBounceReport } from "./read-report.js";

/** What reading one bounce or complaint message did. */
export interface BounceOutcome {
  /** Where the message came from: a file, "file.mbox#3", "imap:INBOX/UID 7". */
  origin: string;
  status: "applied" | "duplicate" | "unrecognised";
  /** Why it was not recognised. */
  reason?: string;
  events: Array<{ email: string; kind: "hard" | "soft" | "complaint"; statusCode: string | null; became: "bounced" | "complained" | null }>;
}

/**
 * Reads one bounce or complaint and applies it once: a message read before (same
 * Message-ID, else same bytes) changes nothing. An unrecognised message, or one
 * about nobody on the list, is reported and left as it is.
 */
export async function processBounce(deps: { db: Db; config: Config; clock: Clock }, raw: Buffer, origin: string): Promise<BounceOutcome> {
  const { db, config, clock } = deps;
  const secrets = resolveSecrets(db, config);
  const report = await readBounceReport(raw, secrets);
  const at = clock.now().toISOString();
  if (report.recognised && bounceMessageOutcome(db, report.key) === "applied") return { origin, status: "duplicate", events: [] };
  if (!report.recognised) {
    recordBounceMessage(db, report.key, "unrecognised", report.reason, at);
    return { origin, status: "unrecognised", reason: report.reason, events: [] };
  }
  const policy = { softLimit: config.softBounceLimit, softDays: config.softBounceDays };
  const targets = report.entries.map((e) => {
    const sub = e.verp ? findSubscriberById(db, e.verp.subscriberId) : e.recipient ? findByAddress(db, e.recipient) : undefined;
    return { entry: e, sub };
  });
  if (targets.every((t) => !t.sub)) {
    const named = report.entries.map((e) => e.recipient).filter(Boolean).join(", ") || "no address";
    const reason = `a ${report.shape} report about ${named}, who is not on the list`;
    recordBounceMessage(db, report.key, "unrecognised", reason, at);
    return { origin, status: "unrecognised", reason, events: [] };
  }
  const events: BounceOutcome["events"] = [];
  db.transaction(() => {
    // Re-checked inside the write: two readers of the same mailbox count it once.
    if (bounceMessageOutcome(db, report.key) === "applied") return;
    for (const { entry, sub } of targets) {
      if (!sub) continue;
      const became = recordBounceEvent(
        db,
        { subscriberId: sub.id, digestId: entry.verp?.digestId ?? entry.digestId, kind: entry.kind, statusCode: entry.statusCode, detail: entry.detail, source: report.shape, messageKey: report.key, at },
        policy,
      );
      events.push({ email: sub.email, kind: entry.kind, statusCode: entry.statusCode, became: became ?? null });
    }
    recordBounceMessage(db, report.key, "applied", `${events.length} event(s)`, at);
  }).immediate();
  return events.length > 0 ? { origin, status: "applied", events } : { origin, status: "duplicate", events };
}

function findByAddress(db: Db, address: string) {
  const check = checkAddress(address, { allowSingleLabel: true });
  return check.ok ? findSubscriberByEmail(db, check.address) : undefined;
}
