import type { Config } from "../../config/load.js";
import type { Mailer } from "./mailer.js";
import { createOutboxMailer } from "./outbox-mailer.js";
import { createSmtpMailer } from "./smtp-mailer.js";

/** The configured transport: SMTP when PAPERMAIL_SMTP_URL is set, else .eml files in the outbox folder. */
export function createMailer(config: Config, outboxSubdir: string): Mailer {
  return config.smtpUrl
    ? createSmtpMailer({
        url: config.smtpUrl,
        poolSize: config.smtpPool,
        dkim: config.dkim,
        allowPlaintextAuth: config.smtpAllowPlaintextAuth,
        ca: config.smtpCa,
        oauth2: config.smtpOAuth2,
      })
    : createOutboxMailer(`${config.outboxDir}/${outboxSubdir}`);
}
