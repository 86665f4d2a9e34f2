import type { Config } from "../config/load.js";
import type { Mailer } from "../deliver/transport/mailer.js";
import type { Db } from "../store/db.js";
import { findSubscriberByUnsubscribeToken } from "../store/deliveries.js";
import { GaveUpWaiting, retryWhileBusy } from "../store/busy.js";
import { resolveSecret, resolveSecrets } from "../store/settings.js";
import { applyConsentEvent } from "../store/consent.js";
import { findByConfirmToken, findSubscriberById, setChoices, type Subscriber } from "../store/subscribers.js";
import type { ReaderChoices } from "../model/choices.js";
import type { Clock } from "../util/time.js";
import { hashToken, isWellFormedToken, keyedId, readPreferencesToken, readUndoToken, readUnsubscribeToken, undoToken } from "../util/tokens.js";
import { checkAddress } from "../model/address.js";
import { requestConfirmation, type ConfirmationResult } from "./confirm.js";
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
 * `client` is the web client's address: confirmations are limited per client too.
 */
export function requestSubscription(
  deps: SubscribeDeps,
  input: string,
  choices: Partial<ReaderChoices> = {},
  client = "unknown",
): { error: string } | { sending: Promise<ConfirmationResult | { status: "active" }> } {
  const check = checkAddress(input);
  if (!check.ok) return { error: `That address ${check.reason}.` };
  // Kept as a keyed hash: the limit needs to recognise a client, not to know it.
  const clientKey = keyedId(resolveSecret(deps.db, deps.config.secret), `client:${client}`, 32);
  const { decision, sending } = requestConfirmation(deps, { email: check.address, source: "web" }, clientKey, choices);
  if (decision.status === "active" && !decision.refused) return { sending: Promise.resolve({ status: "active" as const }) };
  return { sending };
}

/** The subscriber a confirm link names, if the token is ours and fresh. */
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
  const done = deps.db.transaction(() => {
    const r = applyConsentEvent(deps.db, { id: sub.id }, { type: "confirm" }, deps.clock.now().toISOString());
    if (r.status === "active") setChoices(deps.db, sub.id, choices);
    return r;
  }).immediate();
  return done.status === "active" ? "confirmed" : "not found";
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
    await retryWhileBusy(() => applyConsentEvent(deps.db, { id }, { type: "unsubscribe" }, at), () => Date.now() >= deadline);
  } catch (err) {
    if (!(err instanceof GaveUpWaiting)) throw err;
    journalUnsubscribe(journalDir(deps.config.dbPath), id, at);
  }
  return true;
}

/**
 * The undo link of a reader's latest unsubscribe, while it can still be used: their
 * own (not the operator's), not undone yet, within PAPERMAIL_UNDO_DAYS, the address
 * not bounced, reported or suppressed since.
 */
export function undoLink(deps: SubscribeDeps, sub: Subscriber): string | undefined {
  if (sub.status !== "unsubscribed" || sub.unsubscribedBy !== "reader" || sub.suppressedBy || !sub.unsubscribedAt) return undefined;
  if (deps.clock.now().getTime() - Date.parse(sub.unsubscribedAt) > deps.config.undoDays * 86400_000) return undefined;
  return `/resubscribe/${undoToken(resolveSecret(deps.db, deps.config.secret), sub.id, sub.unsubscribedAt)}`;
}

/** The reader and the unsubscribe an undo link answers, if one of our secrets signed it. */
export function readUndoLink(deps: SubscribeDeps, token: string): { subscriber: Subscriber; unsubscribedAt: string } | undefined {
  const claim = readUndoToken(resolveSecrets(deps.db, deps.config), token);
  const subscriber = claim && findSubscriberById(deps.db, claim.subscriberId);
  return subscriber && { subscriber, unsubscribedAt: claim.unsubscribedAt };
}

/**
 * Takes back the unsubscribe an undo link answers: the reader is active again with
 * the choices they had. "not found" for a bad token; "cannot" (with why) when the
 * table says no: not their own or not their latest unsubscribe, too late, used, or the
 * address bounced, was reported or was suppressed since.
 */
export function undoUnsubscribeByToken(
  deps: SubscribeDeps,
  token: string,
): { outcome: "resubscribed"; subscriber: Subscriber } | { outcome: "not found" } | { outcome: "cannot"; subscriber: Subscriber; why: string } {
  const link = readUndoLink(deps, token);
  if (!link) return { outcome: "not found" };
  const windowMs = deps.config.undoDays * 86400_000;
  const r = applyConsentEvent(deps.db, { id: link.subscriber.id }, { type: "undo", unsubscribedAt: link.unsubscribedAt, windowMs }, deps.clock.now().toISOString());
  const subscriber = findSubscriberById(deps.db, link.subscriber.id)!;
  if (r.status === "active" && !r.refused) return { outcome: "resubscribed", subscriber };
  return { outcome: "cannot", subscriber, why: r.why ?? "this link cannot be used" };
}
