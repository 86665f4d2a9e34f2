import type { Config } from "../config.js";
import type { Mailer } from "../deliver/mailer.js";
import type { Db } from "../store/db.js";
import { findSubscriberByUnsubscribeToken } from "../store/deliveries.js";
import { GaveUpWaiting, retryWhileBusy } from "../store/busy.js";
import { resolveSecrets } from "../store/settings.js";
import {
  activateSubscriber,
  addSubscriber,
  findByConfirmToken,
  findSubscriberByEmail,
  findSubscriberById,
  isSuppressedForGood,
  reopenSubscription,
  setChoices,
  undoUnsubscribe,
  unsubscribe,
  type Subscriber,
} from "../store/subscribers.js";
import type { ReaderChoices } from "./choices.js";
import type { Clock } from "../util/time.js";
import { hashToken, isWellFormedToken, readPreferencesToken, readUnsubscribeToken } from "../util/tokens.js";
import { checkAddress } from "../model/address.js";
import { sendConfirmation, type ConfirmationResult } from "./confirm.js";
import { journalDir, journalUnsubscribe } from "./unsubscribe-journal.js";

export interface SubscribeDeps {
  db: Db;
  config: Config;
  clock: Clock;
  mailer?: Mailer;
}

/**
 * A subscription request from the web form. Returns an error for an invalid
 * address (nothing stored), else a promise of the confirmation mail that the
 * caller need not wait for: the answer must not depend on who is subscribed.
 */
export function requestSubscription(
  deps: SubscribeDeps,
  input: string,
  choices: Partial<ReaderChoices> = {},
): { error: string } | { sending: Promise<ConfirmationResult | { status: "active" }> } {
  const check = checkAddress(input);
  if (!check.ok) return { error: `That address ${check.reason}.` };
  const now = deps.clock.now().toISOString();
  addSubscriber(deps.db, check.address, "pending", now, "web");
  let sub = findSubscriberByEmail(deps.db, check.address)!;
  // The form's choices count until the address is confirmed; an active reader's stay
  // theirs to change, from the preferences link only they have.
  // Someone who left (or whose address bounced) may come back, through the same double
  // opt-in. A complaint, or an address the operator suppressed, gets nothing from the form
  // and stays as it is: the answer looks the same.
  if (isSuppressedForGood(sub)) return { sending: Promise.resolve({ status: "not pending" as const }) };
  if (sub.status !== "active") setChoices(deps.db, sub.id, choices);
  if (sub.status === "unsubscribed" || sub.status === "bounced") reopenSubscription(deps.db, sub.id);
  // As stored now: the confirmation email repeats these choices.
  sub = findSubscriberByEmail(deps.db, check.address)!;
  return { sending: sub.status === "pending" ? sendConfirmation(deps, sub) : Promise.resolve({ status: "active" as const }) };
}

/** The pending subscriber a confirm link names, if the token is ours and fresh. */
export function findConfirmable(deps: SubscribeDeps, token: string): Subscriber | undefined {
  if (!isWellFormedToken(token)) return undefined;
  for (const secret of resolveSecrets(deps.db, deps.config)) {
    const sub = findByConfirmToken(deps.db, hashToken(secret, token), deps.clock.now());
    if (sub) return sub;
  }
  return undefined;
}

/**
 * Confirms a subscription, with the choices made on the confirmation page:
 * "confirmed", "already" for a link used before, or "not found" (bad or expired token).
 */
export function confirmSubscription(deps: SubscribeDeps, token: string, choices: Partial<ReaderChoices> = {}): "confirmed" | "already" | "not found" {
  const sub = findConfirmable(deps, token);
  if (!sub) return "not found";
  if (sub.status === "active") return "already";
  deps.db.transaction(() => {
    setChoices(deps.db, sub.id, choices);
    activateSubscriber(deps.db, sub.id, deps.clock.now().toISOString());
  })();
  return "confirmed";
}

/** The subscriber a preferences link names, if one of our secrets signed it. */
export function findByPreferencesToken(deps: SubscribeDeps, token: string): Subscriber | undefined {
  const id = readPreferencesToken(resolveSecrets(deps.db, deps.config), token);
  return id === undefined ? undefined : findSubscriberById(deps.db, id);
}

/**
 * The subscriber an unsubscribe link names, if the token is ours: signed tokens are
 * checked with the secret alone; random ones from older mail are looked up by hash.
 */
export function findUnsubscribable(deps: SubscribeDeps, token: string): number | undefined {
  const secrets = resolveSecrets(deps.db, deps.config);
  const signed = readUnsubscribeToken(secrets, token);
  if (signed) return findSubscriberById(deps.db, signed.subscriberId)?.id;
  if (!isWellFormedToken(token)) return undefined;
  for (const secret of secrets) {
    const id = findSubscriberByUnsubscribeToken(deps.db, hashToken(secret, token));
    if (id !== undefined) return id;
  }
  return undefined;
}

/** How long an unsubscribe waits for another process's write lock before it is journalled instead. */
const UNSUBSCRIBE_LOCK_WAIT_MS = 3000;

/**
 * Unsubscribes the person a digest's link names; repeating it is harmless. False for
 * a bad token. Resolves only once the unsubscribe is safe: written to the database,
 * or, while another process holds the write lock for longer than a one-row write
 * takes, fsynced to the journal that the server and every command apply.
 */
export async function unsubscribeByToken(deps: SubscribeDeps, token: string): Promise<boolean> {
  const id = findUnsubscribable(deps, token);
  if (id === undefined) return false;
  const at = deps.clock.now().toISOString();
  const deadline = Date.now() + UNSUBSCRIBE_LOCK_WAIT_MS;
  try {
    await retryWhileBusy(() => unsubscribe(deps.db, id, at), () => Date.now() >= deadline);
  } catch (err) {
    if (!(err instanceof GaveUpWaiting)) throw err;
    journalUnsubscribe(journalDir(deps.config.dbPath), id, at);
  }
  return true;
}

/**
 * Takes back an unsubscribe by the same link (its signed token): the reader is active
 * again with the choices they had. "not found" for a bad token; "cannot" when the
 * reader is no longer theirs to restore (bounced, complained, or suppressed by the operator).
 */
export function undoUnsubscribeByToken(deps: SubscribeDeps, token: string): { outcome: "resubscribed"; subscriber: Subscriber } | { outcome: "not found" | "cannot" } {
  const id = findUnsubscribable(deps, token);
  if (id === undefined) return { outcome: "not found" };
  if (!undoUnsubscribe(deps.db, id, deps.clock.now().toISOString())) return { outcome: "cannot" };
  return { outcome: "resubscribed", subscriber: findSubscriberById(deps.db, id)! };
}
