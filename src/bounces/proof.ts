import type { Db } from "../store/db.js";
import { wasMailed } from "../store/deliveries.js";
import { findSubscriberByEmail, findSubscriberById, type Subscriber } from "../store/subscribers.js";
import { isDigestKey, readMessageId, readUnsubscribeToken } from "../util/tokens.js";
import { checkAddress } from "../model/address.js";
import type { BounceKind } from "../model/bounce.js";
import type { ReadReport } from "./report/read.js";
import { readVerpAddress } from "./verp.js";

/** What tied a report to mail papermail sent: our VERP envelope, our keyed Message-ID, or our signed unsubscribe link. */
export type Proof = "verp" | "message-id" | "unsubscribe-link";

/** The reader a report entry is about, once proven. */
export interface Attribution {
  subscriber: Subscriber;
  digestId: number | null;
  proof: Proof;
  /** The message it answers ("digest:12", "confirm:S.T"): soft bounces count once per message. */
  about: string;
}

/** A report's claims, checked: only a report that answers mail papermail sent to a reader may change that reader. */
type Recognised = Extract<ReadReport, { recognised: true }>;

/** Least to most severe: when a report is about one reader but names other addresses, the least severe entry counts. */
const SEVERITY: Record<BounceKind, number> = { "not-a-bounce": 0, sender: 1, soft: 2, hard: 3, complaint: 4 };

/**
 * For each entry of a report, the reader it is proven to be about, or null. Proof is
 * a valid VERP token in the envelope, papermail's keyed Message-ID, or its signed
 * unsubscribe link in the returned message; and a ledger row shows papermail mailed
 * that reader that digest. An
 * address a report merely names proves nothing: anyone can write one.
 */
export function attributeReport(db: Db, secrets: readonly string[], report: Recognised): Array<Attribution | null> {
  const proven = new Map<number, Attribution>();
  const keep = (subscriberId: number, digestId: number | null, proof: Proof, about = `digest:${digestId}`) => {
    if (proven.has(subscriberId)) return;
    const subscriber = findSubscriberById(db, subscriberId);
    if (!subscriber) return;
    // A confirmation's Message-ID is made only as the confirmation is sent: its MAC is the record.
    const mailed = digestId === null || wasMailed(db, digestId, subscriberId);
    if (mailed) proven.set(subscriberId, { subscriber, digestId, proof, about });
  };
  for (const address of report.evidence.envelope) {
    const verp = readVerpAddress(secrets, address);
    if (verp) keep(verp.subscriberId, verp.digestId, "verp");
  }
  const keyed: Array<{ digestId: number; key: string }> = [];
  for (const id of report.evidence.messageIds) {
    const claim = readMessageId(secrets, id);
    if (claim?.kind === "digest") keep(claim.subscriberId, claim.digestId, "message-id");
    else if (claim?.kind === "confirm") keep(claim.subscriberId, null, "message-id", `confirm:${claim.subscriberId.toString(36)}.${claim.made}`);
    else if (claim?.kind === "digest-keyed") keyed.push(claim);
  }
  for (const token of report.evidence.unsubscribeTokens) {
    const target = readUnsubscribeToken(secrets, token);
    if (target) keep(target.subscriberId, target.digestId, "unsubscribe-link");
  }

  const byAddress = new Map([...proven.values()].map((a) => [a.subscriber.email, a]));
  const result: Array<Attribution | null> = report.entries.map((entry): Attribution | null => {
    for (const candidate of [entry.recipient, ...entry.alternates]) {
      if (!candidate) continue;
      const address = normalise(candidate);
      const direct = byAddress.get(address);
      if (direct) return direct;
      // A Message-ID from before subscriber ids were in it: keyed to the digest and the reader it names.
      const named = keyed.length ? findSubscriberByEmail(db, address) : undefined;
      const hit = named && keyed.find((k) => isDigestKey(secrets, k.digestId, named.id, k.key) && wasMailed(db, k.digestId, named.id));
      if (named && hit) return { subscriber: named, digestId: hit.digestId, proof: "message-id", about: `digest:${hit.digestId}` };
    }
    return null;
  });
  // A report proven to answer one reader's message, whose words name another address (a
  // forward, an alias, a redacted complaint): it is about that reader, by its least severe entry.
  if (!result.some((r) => r !== null) && proven.size === 1 && report.entries.length > 0) {
    const only = [...proven.values()][0]!;
    let chosen = 0;
    report.entries.forEach((e, i) => {
      if (SEVERITY[e.kind] > 0 && (SEVERITY[report.entries[chosen]!.kind] === 0 || SEVERITY[e.kind] < SEVERITY[report.entries[chosen]!.kind])) chosen = i;
    });
    result[chosen] = only;
  }
  return result;
}

function normalise(address: string): string {
  const check = checkAddress(address, { allowSingleLabel: true });
  return check.ok ? check.address : address.toLowerCase();
}
