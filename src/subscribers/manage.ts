import type { Db } from "../store/db.js";
import { applyConsentEvent } from "../store/consent.js";
import { findSubscriberByEmail, findSubscriberById, forgetSubscriber, setChoices, SUPPRESSED, type Subscriber } from "../store/subscribers.js";
import { checkAddress } from "../model/address.js";
import type { ReaderChoices } from "../model/choices.js";

/**
 * What an operator does to readers, shared by the CLI (`subscribers add|remove|import`,
 * `suppressions`) and the console: one implementation, each going through the consent
 * table and returning what happened for its caller to say in its own words.
 */

/**
 * Puts an address on the suppression list, whatever its status: the operator's mark
 * and reason are recorded (an earlier mark's reason is replaced) and only a lift
 * undoes them. "already" says the address was held by the operator before.
 */
export function suppressAddress(db: Db, input: string, reason: string | undefined, at: string):
  | { outcome: "refused"; input: string; why: string }
  | { outcome: "suppressed"; address: string; was?: Subscriber["status"] }
  | { outcome: "already"; address: string; status: Subscriber["status"] } {
  const check = checkAddress(input);
  if (!check.ok) return { outcome: "refused", input, why: check.reason };
  const r = applyConsentEvent(db, { email: check.address, source: "suppression" }, { type: "suppress" }, at, { reason: reason ?? "added by the operator" });
  if (r.before === "suppressed") return { outcome: "already", address: check.address, status: r.status! };
  return { outcome: "suppressed", address: check.address, was: r.before === "new" ? undefined : r.before };
}

/** Lifts a suppression: the address becomes pending (nobody is made active; they may subscribe again). */
export function liftAddress(db: Db, input: string, at: string): { outcome: "lifted"; address: string; was: Subscriber["status"] } | { outcome: "not suppressed"; input: string } {
  const check = checkAddress(input);
  const sub = check.ok ? findSubscriberByEmail(db, check.address) : undefined;
  if (!sub || !SUPPRESSED.includes(sub.status)) return { outcome: "not suppressed", input: check.ok ? check.address : input };
  const r = applyConsentEvent(db, { id: sub.id }, { type: "lift" }, at);
  if (r.refused) return { outcome: "not suppressed", input: sub.email };
  return { outcome: "lifted", address: sub.email, was: sub.status };
}

/**
 * Unsubscribes a reader at once (no undo link can bring them back), or forgets them
 * (address and send history deleted). A bounced or complained reader stays so.
 */
export function removeReader(db: Db, sub: Pick<Subscriber, "id">, forget: boolean, at: string): "forgot" | "unsubscribed" | "already unsubscribed" | "kept" {
  if (forget) {
    forgetSubscriber(db, sub.id);
    return "forgot";
  }
  const before = findSubscriberById(db, sub.id)?.status;
  const r = applyConsentEvent(db, { id: sub.id }, { type: "remove" }, at);
  if (r.status !== "unsubscribed") return "kept";
  return before === "unsubscribed" ? "already unsubscribed" : "unsubscribed";
}

/** What adding one address as active did. */
export type AddOutcome = "added" | "activated" | "reactivated" | "exists" | "kept";

/**
 * Adds an address as active, for a reader who asked the operator directly (`add
 * --confirmed`, `import --confirmed`): an address on the suppression list stays there
 * ("kept") unless `reactivate` says they asked to come back; one the operator
 * suppressed is lifted only by `suppressions remove`. Choices apply either way.
 */
export function addConfirmedReader(
  db: Db,
  email: string,
  at: string,
  options: { reactivate?: boolean; source?: string; choices?: Partial<ReaderChoices> } = {},
): { outcome: AddOutcome; subscriber: Subscriber; was: string; why?: string } {
  return db.transaction(() => {
    const r = applyConsentEvent(db, { email, source: options.source ?? "cli" }, { type: options.reactivate ? "reactivate" : "add" }, at);
    const subscriber = findSubscriberByEmail(db, email)!;
    if (options.choices && Object.keys(options.choices).length > 0) setChoices(db, subscriber.id, options.choices);
    const outcome: AddOutcome =
      r.refused ? "kept" : r.before === "new" ? "added" : r.before === "active" ? "exists" : r.before === "pending" ? "activated" : "reactivated";
    return { outcome, subscriber: findSubscriberById(db, subscriber.id)!, was: r.before, why: r.why };
  }).immediate();
}
