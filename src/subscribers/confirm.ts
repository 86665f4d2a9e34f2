import { describeChoices } from "./choices.js";
import type { Config } from "../config.js";
import { createMailer } from "../deliver/create-mailer.js";
import type { Mailer } from "../deliver/mailer.js";
import { compileMjmlTemplate } from "../render/email.js";
import { buildSimpleMessage } from "../render/simple-message.js";
import { fromAddress } from "../render/from.js";
import type { Db } from "../store/db.js";
import { recordConfirmationSent, releaseConfirmation, type Subscriber } from "../store/subscribers.js";
import { resolveSecret } from "../store/settings.js";
import type { Clock } from "../util/time.js";
import { confirmationMessageId, hashToken, newToken } from "../util/tokens.js";
import { preferencesLink } from "../render/links.js";

/** At most one confirmation email per address in this window, whatever is posted. */
export const CONFIRMATION_INTERVAL_MS = 24 * 3600_000;

export interface ConfirmDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** A mailer to reuse; one is made (and closed) per call otherwise. */
  mailer?: Mailer;
}

/** What became of a confirmation email; `confirmUrl` is given only for the outbox, where no mail leaves the machine. */
export type ConfirmationResult = { status: "sent"; confirmUrl?: string } | { status: "recently sent" | "not pending" } | { status: "failed"; error: string };

/**
 * Sends a pending subscriber the double opt-in email with a fresh confirm token
 * (only its hash is kept). Refuses, without sending, when one reached the mail
 * server in the last 24 hours; one that did not is not counted.
 */
export async function sendConfirmation(deps: ConfirmDeps, sub: Subscriber): Promise<ConfirmationResult> {
  const { db, config, clock } = deps;
  if (sub.status !== "pending") return { status: "not pending" };
  const now = clock.now();
  const token = newToken();
  const secret = resolveSecret(db, config.secret);
  const expires = new Date(now.getTime() + config.confirmTtlDays * 86400_000);
  // The claim is atomic: two requests at once cannot both send.
  const claimed = recordConfirmationSent(db, sub.id, hashToken(secret, token), now, expires, CONFIRMATION_INTERVAL_MS);
  if (!claimed) return { status: "recently sent" };

  const confirmUrl = `${config.publicUrl}/confirm/${token}`;
  const preferencesUrl = preferencesLink(config, secret, sub.id);
  const html = (await compileMjmlTemplate("confirm").catch((err) => {
    releaseConfirmation(db, sub.id, now);
    throw err;
  }))({ email: sub.email, confirmUrl, preferencesUrl, ttlDays: config.confirmTtlDays, choices: describeChoices(sub.choices) });
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
  const mailer = deps.mailer ?? createMailer(config, "confirmations");
  try {
    const outcome = await mailer.send({ from: fromAddress(config.from), to: sub.email, raw, name: `confirm-${sub.id}-${now.getTime()}` });
    if (outcome.status === "sent") return config.smtpUrl ? { status: "sent" } : { status: "sent", confirmUrl };
    releaseConfirmation(db, sub.id, now);
    return { status: "failed", error: outcome.error };
  } finally {
    if (!deps.mailer) await mailer.close();
  }
}
