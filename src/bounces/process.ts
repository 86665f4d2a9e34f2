import type { Config } from "../config/load.js";
import { describeError } from "../errors.js";
import type { BounceKind, BounceReason } from "../model/bounce.js";
import { bounceMessageOutcome, recordBounceEvent, recordBounceMessage, type EventKind } from "../store/bounces.js";
import type { Db } from "../store/db.js";
import { resolveSecrets } from "../store/settings.js";
import { applyConsentEvent } from "../store/consent.js";
import type { Clock } from "../util/time.js";
import { attributeReport, type Proof } from "./proof.js";
import type { ReadReport, ReportShape } from "./report/read.js";
import { readBounceReportBounded } from "./read-bounded.js";

/** Why a message over PAPERMAIL_BOUNCE_MAX_MB is not read. */
export function tooLarge(size: number, max: number): string {
  return `${(size / 1024 / 1024).toFixed(1)} MB, more than PAPERMAIL_BOUNCE_MAX_MB (${Math.round(max / 1024 / 1024)} MB): not read, left for a person`;
}

/** What one entry of a report did (or, in a dry run, would do). */
export interface BounceEntryOutcome {
  /** The address the report names, if any. */
  recipient: string | null;
  kind: BounceKind;
  reason: BounceReason;
  statusCode: string | null;
  detail: string;
  /** What tied it to mail papermail sent, or null. */
  proof: Proof | null;
  /** The reader it is about, once proven. */
  subscriber: string | null;
  /**
   * bounced, complained: the reader was suppressed; unsubscribed: a complaint proven only
   * by a signed unsubscribe link, taken as the unsubscribe it proves; soft-counted: one more soft bounce
   * in the series; sender-counted: a refusal of our side, counted for its domain;
   * none: nothing changed (see `note`).
   */
  effect: "bounced" | "complained" | "unsubscribed" | "soft-counted" | "sender-counted" | "none";
  note?: string;
}

/** What reading one bounce or complaint message did. */
export interface BounceOutcome {
  /** Where the message came from: a file, "file.mbox#3", "imap:INBOX/UID 7". */
  origin: string;
  /**
   * applied: a proven report changed or counted something; unverified: no proof that it
   * answers our mail, nobody changed; not-a-bounce: a delivery notice, delay warning or
   * auto-reply; duplicate: read before; unrecognised: not a bounce papermail can read.
   */
  status: "applied" | "unverified" | "not-a-bounce" | "duplicate" | "unrecognised";
  shape?: ReportShape;
  /** Why it was not recognised or changed nothing. */
  reason?: string;
  entries: BounceEntryOutcome[];
}

/** Thrown inside a dry run's transaction so that everything it did is rolled back. */
class DryRun extends Error {}

const EVENT_KINDS: ReadonlySet<BounceKind> = new Set<BounceKind>(["hard", "soft", "sender", "complaint"]);

/**
 * Reads one bounce or complaint and applies it once: judged (reason and kind),
 * proven (it answers mail papermail sent to that reader), then applied by the
 * policy. A report without proof changes nobody and is kept as unverified; a
 * message read before (same Message-ID, else same bytes) changes nothing. With
 * `dryRun`, the same steps run in a transaction that is rolled back: the outcome
 * says what would happen. Never throws for what a message holds: it is read in a
 * worker thread within a time and memory bound, and one larger than
 * PAPERMAIL_BOUNCE_MAX_MB is not read at all.
 */
export async function processBounce(deps: { db: Db; config: Config; clock: Clock }, raw: Buffer, origin: string, options: { dryRun?: boolean } = {}): Promise<BounceOutcome> {
  const { config } = deps;
  let report: ReadReport;
  if (raw.length > config.bounceMaxBytes) {
    report = { recognised: false, key: `size:${origin}:${raw.length}`, reason: tooLarge(raw.length, config.bounceMaxBytes) };
  } else {
    try {
      report = await readBounceReportBounded(raw);
    } catch (err) {
      report = { recognised: false, key: `error:${origin}`, reason: `cannot be processed: ${describeError(err)}` };
    }
  }
  return applyBounceReport(deps, report, origin, options);
}

/**
 * Applies one report, read from a mailed bounce or a provider's webhook, once: proven
 * (it answers mail papermail sent to that reader), then applied by the policy; a key
 * seen before changes nothing. With `dryRun`, the steps run in a transaction that is
 * rolled back.
 */
export function applyBounceReport(deps: { db: Db; config: Config; clock: Clock }, report: ReadReport, origin: string, options: { dryRun?: boolean } = {}): BounceOutcome {
  const { db, config, clock } = deps;
  const at = clock.now().toISOString();
  const remember: typeof recordBounceMessage = (...args) => {
    if (!options.dryRun) recordBounceMessage(...args);
  };
  if (!report.recognised) {
    remember(db, report.key, "unrecognised", report.reason, at);
    return { origin, status: "unrecognised", reason: report.reason, entries: [] };
  }
  const known = bounceMessageOutcome(db, report.key);
  if (known && known !== "unrecognised") return { origin, status: "duplicate", shape: report.shape, reason: `read before (${known})`, entries: [] };

  const base = report.entries.map(
    (e): BounceEntryOutcome => ({ recipient: e.recipient, kind: e.kind, reason: e.reason, statusCode: e.statusCode, detail: e.detail, proof: null, subscriber: null, effect: "none" }),
  );
  if (report.entries.every((e) => e.kind === "not-a-bounce")) {
    remember(db, report.key, "not-a-bounce", report.entries.map((e) => e.reason).join(", "), at);
    return { origin, status: "not-a-bounce", shape: report.shape, reason: "a delivery notice, delay warning or auto-reply: not a bounce", entries: base.map((e) => ({ ...e, note: "not a bounce" })) };
  }
  const attributions = attributeReport(db, resolveSecrets(db, config), report);
  if (attributions.every((a) => a === null)) {
    const entries = base.map((e) => ({ ...e, note: "no proof that it answers mail papermail sent (no VERP token, keyed Message-ID or signed link of ours)" }));
    remember(db, report.key, "unverified", `a ${report.shape} report about ${report.entries.map((e) => e.recipient ?? "?").join(", ")}`, at, {
      shape: report.shape,
      entries: report.entries.map((e) => ({ recipient: e.recipient, kind: e.kind, reason: e.reason, statusCode: e.statusCode })),
    });
    return { origin, status: "unverified", shape: report.shape, reason: "no proof that it answers mail papermail sent: nobody was changed", entries };
  }

  const policy = { softLimit: config.softBounceLimit, softDays: config.softBounceDays };
  const shape = report.shape;
  const key = report.key;
  const apply = (): BounceOutcome => {
    // Re-checked inside the write: two readers of the same mailbox count it once.
    const again = bounceMessageOutcome(db, key);
    if (again && again !== "unrecognised") return { origin, status: "duplicate", shape, reason: `read before (${again})`, entries: [] };
    const entries = base.map((entry, i): BounceEntryOutcome => {
      const target = attributions[i];
      if (!target) return { ...entry, note: "no proof that it answers mail papermail sent to this address" };
      const proven = { ...entry, proof: target.proof, subscriber: target.subscriber.email };
      if (!EVENT_KINDS.has(entry.kind)) return { ...proven, note: "not a bounce" };
      if (target.proof === "unsubscribe-link" && entry.kind !== "sender") {
        // A signed link proves only that someone holds a copy, and copies get forwarded:
        // enough for an unsubscribe (what the link does anyway), never for a complaint or a bounce.
        if (entry.kind !== "complaint") return { ...proven, note: "a signed link alone proves a copy, not a failed delivery: nobody changed" };
        const r = applyConsentEvent(db, { id: target.subscriber.id }, { type: "unsubscribe" }, at, { reason: `complaint (${shape}) proven only by a signed unsubscribe link` });
        return r.status === "unsubscribed" && r.changed
          ? { ...proven, effect: "unsubscribed", note: "a complaint proven only by a signed unsubscribe link (a forwarded copy?) counts as an unsubscribe" }
          : { ...proven, note: `already ${r.after}` };
      }
      const effect = recordBounceEvent(
        db,
        {
          subscriberId: target.subscriber.id,
          digestId: target.digestId,
          kind: entry.kind as EventKind,
          reason: entry.reason,
          statusCode: entry.statusCode,
          detail: entry.detail,
          source: shape,
          messageKey: key,
          proof: target.proof,
          about: target.about,
          domain: target.subscriber.email.split("@")[1] ?? null,
          at,
        },
        policy,
      );
      if (effect.became) return { ...proven, effect: effect.became };
      if (entry.kind === "sender") return { ...proven, effect: "sender-counted", note: "a refusal of our side: counted for its domain, the reader stays" };
      if (entry.kind === "soft") return { ...proven, effect: "soft-counted", note: `${effect.softInWindow} of ${policy.softLimit} soft bounces in ${policy.softDays} days` };
      return { ...proven, note: `already ${target.subscriber.status}` };
    });
    recordBounceMessage(db, key, "applied", `${entries.filter((e) => e.subscriber).length} reader(s)`, at);
    return { origin, status: "applied", shape, entries };
  };
  if (!options.dryRun) return db.transaction(apply).immediate();
  let outcome: BounceOutcome | undefined;
  try {
    db.transaction(() => {
      outcome = apply();
      throw new DryRun();
    }).immediate();
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
  }
  return outcome!;
}
