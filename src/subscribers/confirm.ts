import { describeChoices } from "../model/choices.js";
import type { Config } from "../config/load.js";
import { createMailer } from "../deliver/transport/create-mailer.js";
import type { Mailer } from "../deliver/transport/mailer.js";
import { compileMjmlTemplate } from "../render/email-template.js";
import { buildSimpleMessage } from "../render/simple-message.js";
import { fromAddress } from "../render/from.js";
import type { Db } from "../store/db.js";
import { applyConsentEvent, releaseConfirmation, type ConsentResult, type ConsentTarget } from "../store/consent.js";
import { findSubscriberById, setChoices, type Subscriber } from "../store/subscribers.js";
import { resolveSecret } from "../store/settings.js";
import type { Clock } from "../util/time.js";
import { confirmationMessageId, hashToken, newToken } from "../util/tokens.js";
import { preferencesLink } from "../render/links.js";
import type { ReaderChoices } from "../model/choices.js";

export interface ConfirmDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** A mailer to reuse; one is made (and closed) per call otherwise. */
  mailer?: Mailer;
}

/**
 * What became of a confirmation email; `confirmUrl` is given only for the outbox, where
 * no mail leaves the machine. "recently sent" and "client limit" name the limit that
 * held it back (CONFIRMATION_LIMITS); "not pending": the table allows none (an active
 * reader, an address the operator suppressed).
 */
export type ConfirmationResult =
  | { status: "sent"; confirmUrl?: string }
  | { status: "recently sent" | "client limit" | "not pending" }
  | { status: "failed"; error: string };

/**
 * A request for a subscription (the form, or the operator without --confirmed): the
 * consent table decides, the limits count every confirmation whatever happened in
 * between, and the email carries a fresh token (only its hash is kept). Choices are
 * saved first unless the reader is active (theirs to change from their own link).
 * Returns the decision at once and the email as a promise.
 */
export function requestConfirmation(
  deps: ConfirmDeps,
  target: Extract<ConsentTarget, { email: string }>,
  client: string | null,
  choices: Partial<ReaderChoices> = {},
): { decision: ConsentResult; sending: Promise<ConfirmationResult> } {
  const { db, config, clock } = deps;
  const now = clock.now();
  const at = now.toISOString();
  const token = newToken();
  const secret = resolveSecret(db, config.secret);
  const expiresAt = new Date(now.getTime() + config.confirmTtlDays * 86400_000).toISOString();
  const decision = db.transaction(() => {
    const d = applyConsentEvent(db, target, { type: "request" }, at, { confirmation: { tokenHash: hashToken(secret, token), expiresAt, client } });
    if (d.subscriberId !== undefined && !d.refused && d.status !== "active" && Object.keys(choices).length > 0) setChoices(db, d.subscriberId, choices);
    return d;
  }).immediate();
  if (decision.confirmation !== "claimed") {
    const status = decision.confirmation === "recently sent" || decision.confirmation === "client limit" ? decision.confirmation : "not pending";
    return { decision, sending: Promise.resolve({ status }) };
  }
  // As stored now: the email repeats these choices.
  const sub = findSubscriberById(db, decision.subscriberId!)!;
  return { decision, sending: mailConfirmation(deps, sub, token, now) };
}

/** Writes and sends the confirmation email for a claimed token; gives the claim back when the mail server did not take it. */
async function mailConfirmation(deps: ConfirmDeps, sub: Subscriber, token: string, now: Date): Promise<ConfirmationResult> {
  const { db, config } = deps;
  const at = now.toISOString();
  const secret = resolveSecret(db, config.secret);
  const confirmUrl = `${config.publicUrl}/confirm/${token}`;
  const preferencesUrl = preferencesLink(config, secret, sub.id);
  let template;
  try {
    template = await compileMjmlTemplate("confirm");
  } catch (err) {
    releaseConfirmation(db, sub.id, at);
    throw err;
  }
  const html = template({ email: sub.email, confirmUrl, preferencesUrl, ttlDays: config.confirmTtlDays, choices: describeChoices(sub.choices) });
  const text = [
    "Confirm your subscription",
    "",
    `Someone, hopefully you, asked to get the trending papers of the Hugging Face Daily Papers page by email at ${sub.email}.`,
    "",
    `Open this link to confirm: ${confirmUrl}`,
    "",
    `You will get ${describeChoices(sub.choices)}; the page the link opens lets you change that first.`,
    "",
    `The link works for ${config.confirmTtlDays} days. If you did not ask for this, ignore this email: nothing will be sent to you.`,
    "",
    `Topics, daily or weekly, full or compact: choose what you get at ${preferencesUrl}`,
    "",
  ].join("\n");
  // A keyed Message-ID: a bounce of this email that quotes it can be tied to this address.
  const messageId = `${confirmationMessageId(secret, sub.id, now)}@${fromAddress(config.from).split("@")[1] ?? "localhost"}`;
  const raw = await buildSimpleMessage({ from: config.from, to: sub.email, subject: "Confirm your papermail subscription", html, text, date: now, messageId });
  const mailer = deps.mailer ?? createMailer(config, "confirmations", { db: deps.db });
  try {
    const outcome = await mailer.send({ from: fromAddress(config.from), to: sub.email, raw, name: `confirm-${sub.id}-${now.getTime()}` });
    if (outcome.status === "sent") return config.smtpUrl ? { status: "sent" } : { status: "sent", confirmUrl };
    releaseConfirmation(db, sub.id, at);
    return { status: "failed", error: outcome.error };
  } catch (err) {
    releaseConfirmation(db, sub.id, at);
    throw err;
  } finally {
    if (!deps.mailer) await mailer.close();
  }
}
