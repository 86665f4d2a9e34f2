import { z } from "zod";
import { address, bool, canParseUrl, cron, existingFile, httpUrl, int, isTimeZone, isValidFrom, list, pemFile } from "./schemas.js";
import { isValidAddress } from "../model/address.js";
import { isEcPublicKey } from "../util/ec-key.js";
import { parseRelays } from "./relays.js";

/**
 * Every PAPERMAIL_* setting, once: its name, the Config key it fills, how its text is
 * checked, its default (as text, read through the same check), how `--help` shows an
 * unset default, what it means, and whether it is a secret. The help, the parsed
 * config and the log's redaction all come from this table (a table of data: the one
 * file allowed to be long).
 */
export interface Setting<K extends string = string, T = unknown> {
  name: string;
  key: K;
  schema: z.ZodType;
  /** The value's type, undefined included when the setting may stay unset (a marker for types only). */
  value?: T;
  /** The default, as the variable would be written; absent: unset unless given. */
  default?: string;
  /** How help shows a setting without a default ("(unset: outbox)"). */
  shown?: string;
  help: string;
  /** A secret is never echoed in an error, and its value (or a URL's password) is redacted from the log. */
  secret?: "value" | "url-password" | "list";
}

type More = Pick<Setting, "default" | "shown" | "secret">;

function setting<K extends string, T, M extends More = {}>(name: string, key: K, schema: z.ZodType<T>, help: string, more?: M): Setting<K, M extends { default: string } ? T : T | undefined> {
  return { name, key, schema, help, ...more };
}

/** The parsed value of every setting, by its Config key. */
export type SettingValues = { [S in (typeof SETTINGS)[number] as S["key"]]: S extends Setting<string, infer V> ? V : never };

const smtpUrl = z.string().superRefine((v, c) => {
  const parsed = parseRelays(v);
  if ("error" in parsed) c.addIssue({ code: "custom", message: parsed.error });
});
const imapUrl = z.string().refine((v) => /^imaps?:\/\/[^/]/i.test(v) && canParseUrl(v), "must be an imaps:// or imap:// URL, e.g. imaps://user:pass@mail.example.org/INBOX");
const secret32 = z.string().min(32, "must be at least 32 characters");

export const SETTINGS = [
  setting("PAPERMAIL_DB", "dbPath", z.string().min(1), "SQLite database file (created with its folder)", { default: "./var/papermail.db" }),
  setting("PAPERMAIL_DUMPS_DIR", "dumpsDir", z.string().min(1), "folder of dumps (page text or daily_papers JSON) that `ingest`, `fetch` and the scheduler use", { shown: "./dumps (the bundled samples in demo mode)" }),
  setting("PAPERMAIL_HF_API_URL", "hfApiUrl", httpUrl, "where `papermail fetch` gets the daily_papers JSON", { default: "https://huggingface.co/api/daily_papers" }),
  setting("PAPERMAIL_FETCH_MAX_MB", "fetchMaxBytes", int(1, 2000).transform((mb) => mb * 1024 * 1024), "most `papermail fetch` reads for one day, all its pages together, in MB (a real day is under 1 MB); more is refused as it streams in", { default: "50" }),
  setting("PAPERMAIL_FETCH_CRON", "fetchCron", cron, "when the scheduler runs `papermail fetch` for today, e.g. '0 */2 * * *'", { shown: "(unset: off)" }),
  setting("PAPERMAIL_THUMBNAILS", "thumbnails", bool, "true shows each paper's thumbnail in email and archive (images cost privacy and size)", { default: "false" }),
  setting("PAPERMAIL_OUTBOX_DIR", "outboxDir", z.string().min(1), "where mail is written as .eml files when no SMTP server is set", { default: "./var/outbox" }),
  setting("PAPERMAIL_SMTP_URL", "smtpUrl", smtpUrl, "smtp:// or smtps:// URL of the mail server, e.g. smtps://user:pass@mail.example.org; several, comma-separated, are relays in order of preference (failover), each with its own ?rate=N&daily=N", { shown: "(unset: outbox)", secret: "url-password" }),
  setting("PAPERMAIL_SMTP_POOL", "smtpPool", int(1, 64), "pooled SMTP connections used for a digest (16 keeps a local Postfix busy; lower it for a relay that limits connections)", { default: "16" }),
  setting("PAPERMAIL_SMTP_CA_FILE", "smtpCa", pemFile, "PEM file of a private CA that signed the mail server's certificate", { shown: "(unset: system CAs)" }),
  setting("PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH", "smtpAllowPlaintextAuth", bool, "true lets the SMTP password cross an unencrypted connection (a trusted local relay only)", { default: "false" }),
  setting("PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND", "oauth2TokenCommand", z.string(), "log in with XOAUTH2: a shell command that prints an access token for the user in PAPERMAIL_SMTP_URL (e.g. 'gcloud auth print-access-token')", { shown: "(unset)", secret: "value" }),
  setting("PAPERMAIL_SMTP_OAUTH2_CLIENT_ID", "oauth2ClientId", z.string(), "log in with XOAUTH2, tokens from a refresh token: the OAuth2 client id", { shown: "(unset)" }),
  setting("PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET", "oauth2ClientSecret", z.string(), "the OAuth2 client secret (for a confidential client)", { shown: "(unset)", secret: "value" }),
  setting("PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN", "oauth2RefreshToken", z.string(), "the OAuth2 refresh token that access tokens are made from", { shown: "(unset)", secret: "value" }),
  setting("PAPERMAIL_SMTP_OAUTH2_TOKEN_URL", "oauth2TokenUrl", httpUrl, "the OAuth2 token endpoint (Microsoft 365: https://login.microsoftonline.com/TENANT/oauth2/v2.0/token)", { default: "https://oauth2.googleapis.com/token" }),
  setting("PAPERMAIL_SMTP_OAUTH2_SCOPE", "oauth2Scope", z.string(), "scope asked for with each token (Microsoft 365: https://outlook.office365.com/.default)", { shown: "(unset)" }),
  setting("PAPERMAIL_SMTP_RATE", "smtpRate", z.coerce.number({ error: "must be a number of messages per second" }).positive("must be more than 0").max(100_000, "must be at most 100000"), "most messages per second to the relay, decimals allowed (e.g. 14 for SES, 0.5); shared by all connections and processes", { shown: "(unset: unlimited)" }),
  setting("PAPERMAIL_SMTP_DAILY_LIMIT", "smtpDailyLimit", int(1, 100_000_000), "most messages per rolling 24 hours (e.g. 2000 for Gmail); a run that reaches it pauses until it allows more", { shown: "(unset: unlimited)" }),
  setting("PAPERMAIL_BOUNCE_ADDRESS", "bounceAddress", z.string().refine((v) => isValidAddress(v) && !v.includes("+"), "must be a plain address without '+', e.g. bounces@example.org"), "envelope sender for bounces, e.g. bounces@example.org; each message gets its own bounces+TOKEN@ address (VERP)", { shown: "(unset: the From address)" }),
  setting("PAPERMAIL_BOUNCE_MAILBOX", "bounceMailbox", imapUrl, "IMAP mailbox the scheduler reads bounces and complaints from: imaps://user:pass@host/INBOX, or imap:// with STARTTLS", { shown: "(unset)", secret: "url-password" }),
  setting("PAPERMAIL_BOUNCE_CRON", "bounceCron", cron, "when the scheduler reads PAPERMAIL_BOUNCE_MAILBOX", { default: "*/15 * * * *" }),
  setting("PAPERMAIL_BOUNCE_MAX_MB", "bounceMaxBytes", int(1, 1000).transform((mb) => mb * 1024 * 1024), "largest bounce or complaint message read, in MB (a real one, with the returned digest, is well under 1 MB); a larger one is skipped without being read and left for a person", { default: "5" }),
  setting("PAPERMAIL_BOUNCE_CA_FILE", "bounceCa", pemFile, "PEM file of a private CA that signed the IMAP server's certificate", { shown: "(unset: system CAs)" }),
  setting("PAPERMAIL_DNS_SERVERS", "dnsServers", list(z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]+)(:\d{1,5})?$/, "each must be a resolver's address with an optional port, e.g. 10.0.0.53 or 127.0.0.1:5353 or [::1]:53")), "DNS resolvers `papermail doctor` asks, comma-separated host[:port] (split DNS, or a test's own server)", { default: "", shown: "(unset: the system's)" }),
  setting("PAPERMAIL_SES_TOPIC_ARNS", "sesTopicArns", list(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "each must be an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:ses-events")), "the SNS topics whose Amazon SES bounces and complaints /webhooks/ses accepts, comma-separated (unset: the endpoint answers 404)", { default: "" }),
  setting("PAPERMAIL_SNS_CERT_URL", "snsCertUrl", httpUrl, "one more place /webhooks/ses fetches SNS signing certificates from (tests, a local mirror); otherwise only https://sns.REGION.amazonaws.com", { shown: "(unset: Amazon's only)" }),
  setting("PAPERMAIL_POSTMARK_WEBHOOK_SECRET", "postmarkWebhookSecret", z.string().min(16, "must be at least 16 characters"), "the password of /webhooks/postmark, given in the webhook's URL (https://postmark:SECRET@site/webhooks/postmark) or its X-Papermail-Secret header", { shown: "(unset: 404)", secret: "value" }),
  setting("PAPERMAIL_MAILGUN_SIGNING_KEY", "mailgunSigningKey", z.string().min(16, "must be at least 16 characters"), "Mailgun's HTTP webhook signing key: /webhooks/mailgun checks each event's HMAC with it", { shown: "(unset: 404)", secret: "value" }),
  setting("PAPERMAIL_SENDGRID_PUBLIC_KEY", "sendgridPublicKey", z.string().refine(isEcPublicKey, "must be SendGrid's verification key (base64 of an ECDSA public key, as the Signed Event Webhook page shows it)"), "SendGrid's Signed Event Webhook verification key: /webhooks/sendgrid checks each batch's ECDSA signature with it", { shown: "(unset: 404)" }),
  setting("PAPERMAIL_WEBHOOK_MAX_AGE_MINUTES", "webhookMaxAgeMinutes", int(1, 24 * 60), "a webhook request signed longer ago than this is refused as stale (a replay)", { default: "60" }),
  setting("PAPERMAIL_SOFT_BOUNCE_LIMIT", "softBounceLimit", int(1, 100), "soft bounces within PAPERMAIL_SOFT_BOUNCE_DAYS that make an address bounced", { default: "3" }),
  setting("PAPERMAIL_SOFT_BOUNCE_DAYS", "softBounceDays", int(1, 365), "the window for PAPERMAIL_SOFT_BOUNCE_LIMIT", { default: "15" }),
  setting("PAPERMAIL_LEDGER_DAYS", "ledgerDays", int(1, 3650), "days after which a finished digest's per-recipient rows are compacted into counts", { default: "30" }),
  setting("PAPERMAIL_SECRET_PREVIOUS", "secretPrevious", list(z.string().refine((s) => s === "generated" || s.length >= 32, "each secret must be at least 32 characters (or the word generated)")), "secrets before the last rotations, comma-separated (`generated` = the one papermail generated before PAPERMAIL_SECRET was set): links and bounce addresses signed with them keep working; no other secret is accepted", { default: "", secret: "list" }),
  setting("PAPERMAIL_UNDO_DAYS", "undoDays", int(0, 365), "days during which a reader can undo their own latest unsubscribe (once); after that they subscribe again by double opt-in", { default: "7" }),
  setting("PAPERMAIL_RETRY_GIVE_UP_HOURS", "retryGiveUpHours", int(1, 24 * 30), "hours after which a message still refused with 4xx is given up (retries spread over them)", { default: "72" }),
  setting("PAPERMAIL_FROM", "from", z.string().refine(isValidFrom, "must be an address or 'Name <address>' on one line"), "From address of every email", { default: "papermail <papermail@localhost>" }),
  setting("PAPERMAIL_PUBLIC_URL", "publicUrlSetting",
    httpUrl
      // It is written into mail headers as it is.
      .refine((v) => !/[\s\x00-\x1f\x7f]/.test(v), "must not contain spaces, line breaks or control characters")
      .transform((v) => v.replace(/\/+$/, "")),
    "base URL of the site, used in links in mail and feed", { shown: "http://localhost:PORT" }),
  setting("PAPERMAIL_SECRET", "secret", secret32, "signing secret, at least 32 characters", { shown: "(generated, kept in the database)", secret: "value" }),
  setting("PAPERMAIL_MAX_PAPERS", "maxPapers", int(1, 1000), "most papers in one daily digest; the rest of its days are passed over (`papers --passed-over`), never sent later", { default: "30" }),
  setting("PAPERMAIL_MIN_UPVOTES", "minUpvotes", int(0, 1_000_000), "papers with fewer upvotes (or an unknown count) are passed over; a digest left with none is not sent", { default: "0" }),
  setting("PAPERMAIL_CATCH_UP_DAYS", "catchUpDays", int(1, 366), "newest list days a digest reaches back over (first digest, after an outage or a backfill); older waiting papers expire", { default: "3" }),
  setting("PAPERMAIL_INCLUDE_TODAY", "includeToday", bool, "true sends the list day in progress too (otherwise a day is complete at midnight UTC, or once a newer day is listed)", { default: "false" }),
  setting("PAPERMAIL_DKIM_DOMAIN", "dkimDomain", z.string().regex(/^[a-z0-9.-]+$/i, "must be a domain name"), "DKIM signing domain", { shown: "(unset: no DKIM)" }),
  setting("PAPERMAIL_DKIM_SELECTOR", "dkimSelector", z.string().regex(/^[a-z0-9._-]+$/i, "must be a DKIM selector"), "DKIM selector", { shown: "(unset)" }),
  setting("PAPERMAIL_DKIM_KEY_FILE", "dkimKeyFile", existingFile, "PEM file of the DKIM private key", { shown: "(unset)" }),
  setting("PAPERMAIL_HOST", "host", z.string().min(1), "address `serve` listens on", { default: "127.0.0.1" }),
  setting("PAPERMAIL_PORT", "port", int(0, 65535), "port `serve` listens on (0: one the system picks, named in the log)", { default: "8080" }),
  setting("PAPERMAIL_TRUST_PROXY", "trustProxy", bool, "true behind a reverse proxy: rate limits use X-Forwarded-For", { default: "false" }),
  setting("PAPERMAIL_INGEST_CRON", "ingestCron", cron, "when the scheduler ingests the dump folder", { default: "*/10 * * * *" }),
  setting("PAPERMAIL_DIGEST_CRON", "digestCron", cron, "when the scheduler publishes the daily digest", { default: "0 8 * * *" }),
  setting("PAPERMAIL_WEEKLY_CRON", "weeklyCron", cron, "when the scheduler publishes the weekly digest (for weekly readers), after that day's daily one", { default: "0 8 * * 1" }),
  setting("PAPERMAIL_TZ", "timeZone", z.string().refine(isTimeZone, "must be an IANA time zone such as UTC or Europe/Paris"), "time zone of the schedules, e.g. Europe/Paris", { default: "UTC" }),
  setting("PAPERMAIL_FEED_ITEMS", "feedItems", int(1, 10000), "papers in /feed.xml", { default: "50" }),
  setting("PAPERMAIL_CONFIRM_TTL_DAYS", "confirmTtlDays", int(1, 365), "days a subscription confirmation link stays valid", { default: "7" }),
  setting("PAPERMAIL_METRICS_TOKEN", "metricsToken", z.string().min(16, "must be at least 16 characters").regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"), "bearer token that /metrics asks for on the site's address", { shown: "(unset: /metrics only on the admin address)", secret: "value" }),
  setting("PAPERMAIL_ADMIN_HOST", "adminHost", z.string().min(1), "address of a second listener for operators: the console and /metrics move there, e.g. 127.0.0.1", { shown: "(unset: no admin listener)" }),
  setting("PAPERMAIL_ADMIN_PORT", "adminPort", int(0, 65535), "port of the admin listener (0: one the system picks, named in the log)", { default: "9090" }),
  setting("PAPERMAIL_ADMIN_ALLOWED_HOSTS", "adminAllowedHosts",
    list(z.string().transform((s) => s.toLowerCase()).pipe(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/, "each must be a host name or address without a port, e.g. admin.internal or [fd00::1]"))),
    "more host names the admin listener answers to, comma-separated (e.g. the name of an SSH tunnel or VPN address); any other Host gets 421", { default: "" }),
  setting("PAPERMAIL_ADMIN_EMAIL", "adminEmail", address, "where alerts are mailed, at most once per alert and day", { shown: "(unset: alerts are not mailed)" }),
  setting("PAPERMAIL_ADMIN_PASSWORD", "adminPasswordPlain", z.string().min(12, "must be at least 12 characters"), "password of the operator console /admin, at least 12 characters", { shown: "(unset: no console)", secret: "value" }),
  setting("PAPERMAIL_ADMIN_PASSWORD_HASH", "adminPasswordHash", z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, "must be what `papermail admin hash-password` prints (scrypt$...)"), "the console password as `papermail admin hash-password` prints it, instead of the password itself", { shown: "(unset)", secret: "value" }),
  setting("PAPERMAIL_STALE_HOURS", "staleHours", int(1, 24 * 60), "hours without a new list day (weekends not counted) after which the input is called stale", { default: "36" }),
  setting("PAPERMAIL_LOG_FORMAT", "logFormat", z.enum(["text", "json"], { error: "must be text or json" }), "text (one human line per event) or json (one JSON object per line)", { default: "text" }),
] as const;

/** How help shows a setting's default. */
export function shownDefault(s: Pick<Setting, "default" | "shown">): string {
  return s.shown ?? (s.default === "" ? "(unset)" : (s.default ?? "(unset)"));
}
