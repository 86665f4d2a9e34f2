import type { Db } from "../store/db.js";
import {
  addSuppressedAddress,
  findSubscriberByEmail,
  forgetSubscriber,
  liftSuppression,
  suppressSubscriber,
  SUPPRESSED,
  unsubscribe,
  type Subscriber,
} from "../store/subscribers.js";
import { checkAddress } from "../model/address.js";

/**
 * What an operator does to readers, shared by the CLI (`suppressions`, `subscribers
 * remove`) and the console: one implementation, each returning what happened for its
 * caller to say in its own words.
 */

/** Puts an address on the suppression list (a reader, or an address not on the list yet). */
export function suppressAddress(db: Db, input: string, reason: string | undefined, at: string):
  | { outcome: "refused"; input: string; why: string }
  | { outcome: "suppressed"; address: string; was?: Subscriber["status"] }
  | { outcome: "already"; address: string; status: Subscriber["status"] } {
  const check = checkAddress(input);
  if (!check.ok) return { outcome: "refused", input, why: check.reason };
  const sub = findSubscriberByEmail(db, check.address);
  if (!sub) {
    // An address never on the list can be suppressed ahead of time.
    addSuppressedAddress(db, check.address, reason ?? "added by the operator", at);
    return { outcome: "suppressed", address: check.address };
  }
  if (SUPPRESSED.includes(sub.status)) return { outcome: "already", address: check.address, status: sub.status };
  suppressSubscriber(db, sub.id, "unsubscribed", reason ?? "added by the operator", at, "operator");
  return { outcome: "suppressed", address: check.address, was: sub.status };
}

/** Lifts a suppression: the address becomes pending (nobody is made active; they may subscribe again). */
export function liftAddress(db: Db, input: string): { outcome: "lifted"; address: string; was: Subscriber["status"] } | { outcome: "not suppressed"; input: string } {
  const check = checkAddress(input);
  const sub = check.ok ? findSubscriberByEmail(db, check.address) : undefined;
  if (!sub || !SUPPRESSED.includes(sub.status)) return { outcome: "not suppressed", input: check.ok ? check.address : input };
  liftSuppression(db, sub.id);
  return { outcome: "lifted", address: sub.email, was: sub.status };
}

/** Unsubscribes a reader at once, or forgets them (address and send history deleted). */
export function removeReader(db: Db, sub: Pick<Subscriber, "id">, forget: boolean, at: string): "forgot" | "unsubscribed" | "already unsubscribed" {
  if (forget) {
    forgetSubscriber(db, sub.id);
    return "forgot";
  }
  return unsubscribe(db, sub.id, at) ? "unsubscribed" : "already unsubscribed";
}
