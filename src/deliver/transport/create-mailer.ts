import type { Config } from "../../config/load.js";
import type { Db } from "../../store/db.js";
import type { Mailer } from "./mailer.js";
import { createOutboxMailer } from "./outbox-mailer.js";
import { createRelaySet } from "./relay-set.js";
import { createSmtpMailer } from "./smtp-mailer.js";

/**
 * The configured transport: SMTP when PAPERMAIL_SMTP_URL is set, else .eml files in the
 * outbox folder. Several relays, or one with limits of its own, become a relay set with
 * failover; its counts and states live in `db` when given.
 */
export function createMailer(config: Config, outboxSubdir: string, options: { db?: Db; log?: (line: string) => void } = {}): Mailer {
  if (config.relays.length === 0) return createOutboxMailer(`${config.outboxDir}/${outboxSubdir}`);
  const smtp = (url: string, first: boolean) =>
    createSmtpMailer({
      url,
      poolSize: config.smtpPool,
      dkim: config.dkim,
      allowPlaintextAuth: config.smtpAllowPlaintextAuth,
      ca: config.smtpCa,
      // The OAuth2 settings are the first relay's account.
      oauth2: first ? config.smtpOAuth2 : undefined,
    });
  const [only] = config.relays;
  if (config.relays.length === 1 && only!.rate === undefined && only!.daily === undefined) return smtp(only!.url, true);
  return createRelaySet(
    config.relays.map((spec, i) => ({ spec, mailer: smtp(spec.url, i === 0) })),
    options.db,
    options.log,
  );
}
