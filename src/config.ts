import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { validate as validateCron } from "node-cron";
import { z } from "zod";
import { PapermailError } from "./errors.js";
import { isHttpUrl } from "./model/links.js";
import { isValidAddress } from "./model/address.js";
import { parseFrom } from "./render/from.js";
import type { OAuth2Settings } from "./deliver/transport/oauth2.js";

/** The sample dumps shipped with papermail: the demo's data. */
export const SAMPLES_DIR = fileURLToPath(new URL("../samples/", import.meta.url));

/** Every PAPERMAIL_* variable: default and meaning. The README's table and `--help` are made from this. */
export const ENV_DOCS: ReadonlyArray<{ name: string; default: string; help: string }> = [
  { name: "PAPERMAIL_DB", default: "./var/papermail.db", help: "SQLite database file (created with its folder)" },
  { name: "PAPERMAIL_DUMPS_DIR", default: "./dumps (the bundled samples in demo mode)", help: "folder of dumps (page text or daily_papers JSON) that `ingest`, `fetch` and the scheduler use" },
  { name: "PAPERMAIL_HF_API_URL", default: "https://huggingface.co/api/daily_papers", help: "where `papermail fetch` gets the daily_papers JSON" },
  { name: "PAPERMAIL_FETCH_MAX_MB", default: "50", help: "most `papermail fetch` reads for one day, all its pages together, in MB (a real day is under 1 MB); more is refused as it streams in" },
  { name: "PAPERMAIL_FETCH_CRON", default: "(unset: off)", help: "when the scheduler runs `papermail fetch` for today, e.g. '0 */2 * * *'" },
  { name: "PAPERMAIL_THUMBNAILS", default: "false", help: "true shows each paper's thumbnail in email and archive (images cost privacy and size)" },
  { name: "PAPERMAIL_OUTBOX_DIR", default: "./var/outbox", help: "where mail is written as .eml files when no SMTP server is set" },
  { name: "PAPERMAIL_SMTP_URL", default: "(unset: outbox)", help: "smtp:// or smtps:// URL of the mail server, e.g. smtps://user:pass@mail.example.org" },
  { name: "PAPERMAIL_SMTP_POOL", default: "16", help: "pooled SMTP connections used for a digest (16 keeps a local Postfix busy; lower it for a relay that limits connections)" },
  { name: "PAPERMAIL_SMTP_CA_FILE", default: "(unset: system CAs)", help: "PEM file of a private CA that signed the mail server's certificate" },
  { name: "PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH", default: "false", help: "true lets the SMTP password cross an unencrypted connection (a trusted local relay only)" },
  { name: "PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND", default: "(unset)", help: "log in with XOAUTH2: a shell command that prints an access token for the user in PAPERMAIL_SMTP_URL (e.g. 'gcloud auth print-access-token')" },
  { name: "PAPERMAIL_SMTP_OAUTH2_CLIENT_ID", default: "(unset)", help: "log in with XOAUTH2, tokens from a refresh token: the OAuth2 client id" },
  { name: "PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET", default: "(unset)", help: "the OAuth2 client secret (for a confidential client)" },
  { name: "PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN", default: "(unset)", help: "the OAuth2 refresh token that access tokens are made from" },
  { name: "PAPERMAIL_SMTP_OAUTH2_TOKEN_URL", default: "https://oauth2.googleapis.com/token", help: "the OAuth2 token endpoint (Microsoft 365: https://login.microsoftonline.com/TENANT/oauth2/v2.0/token)" },
  { name: "PAPERMAIL_SMTP_OAUTH2_SCOPE", default: "(unset)", help: "scope asked for with each token (Microsoft 365: https://outlook.office365.com/.default)" },
  { name: "PAPERMAIL_SMTP_RATE", default: "(unset: unlimited)", help: "most messages per second to the relay, decimals allowed (e.g. 14 for SES, 0.5); shared by all connections and processes" },
  { name: "PAPERMAIL_SMTP_DAILY_LIMIT", default: "(unset: unlimited)", help: "most messages per rolling 24 hours (e.g. 2000 for Gmail); a run that reaches it pauses until it allows more" },
  { name: "PAPERMAIL_BOUNCE_ADDRESS", default: "(unset: the From address)", help: "envelope sender for bounces, e.g. bounces@example.org; each message gets its own bounces+TOKEN@ address (VERP)" },
  { name: "PAPERMAIL_BOUNCE_MAILBOX", default: "(unset)", help: "IMAP mailbox the scheduler reads bounces and complaints from: imaps://user:pass@host/INBOX, or imap:// with STARTTLS" },
  { name: "PAPERMAIL_BOUNCE_CRON", default: "*/15 * * * *", help: "when the scheduler reads PAPERMAIL_BOUNCE_MAILBOX" },
  { name: "PAPERMAIL_BOUNCE_MAX_MB", default: "5", help: "largest bounce or complaint message read, in MB (a real one, with the returned digest, is well under 1 MB); a larger one is skipped without being read and left for a person" },
  { name: "PAPERMAIL_BOUNCE_CA_FILE", default: "(unset: system CAs)", help: "PEM file of a private CA that signed the IMAP server's certificate" },
  { name: "PAPERMAIL_SOFT_BOUNCE_LIMIT", default: "3", help: "soft bounces within PAPERMAIL_SOFT_BOUNCE_DAYS that make an address bounced" },
  { name: "PAPERMAIL_SOFT_BOUNCE_DAYS", default: "15", help: "the window for PAPERMAIL_SOFT_BOUNCE_LIMIT" },
  { name: "PAPERMAIL_LEDGER_DAYS", default: "30", help: "days after which a finished digest's per-recipient rows are compacted into counts" },
  { name: "PAPERMAIL_SECRET_PREVIOUS", default: "(unset)", help: "secrets before the last rotations, comma-separated (`generated` = the one papermail generated before PAPERMAIL_SECRET was set): links and bounce addresses signed with them keep working; no other secret is accepted" },
  { name: "PAPERMAIL_UNDO_DAYS", default: "7", help: "days during which a reader can undo their own latest unsubscribe (once); after that they subscribe again by double opt-in" },
  { name: "PAPERMAIL_RETRY_GIVE_UP_HOURS", default: "72", help: "hours after which a message still refused with 4xx is given up (retries spread over them)" },
  { name: "PAPERMAIL_FROM", default: "papermail <papermail@localhost>", help: "From address of every email" },
  { name: "PAPERMAIL_PUBLIC_URL", default: "http://localhost:PORT", help: "base URL of the site, used in links in mail and feed" },
  { name: "PAPERMAIL_SECRET", default: "(generated, kept in the database)", help: "signing secret, at least 32 characters" },
  { name: "PAPERMAIL_MAX_PAPERS", default: "30", help: "most papers in one daily digest; the rest of its days are passed over (`papers --passed-over`), never sent later" },
  { name: "PAPERMAIL_MIN_UPVOTES", default: "0", help: "papers with fewer upvotes (or an unknown count) are passed over; a digest left with none is not sent" },
  { name: "PAPERMAIL_CATCH_UP_DAYS", default: "3", help: "newest list days a digest reaches back over (first digest, after an outage or a backfill); older waiting papers expire" },
  { name: "PAPERMAIL_INCLUDE_TODAY", default: "false", help: "true sends the list day in progress too (otherwise a day is complete at midnight UTC, or once a newer day is listed)" },
  { name: "PAPERMAIL_DKIM_DOMAIN", default: "(unset: no DKIM)", help: "DKIM signing domain" },
  { name: "PAPERMAIL_DKIM_SELECTOR", default: "(unset)", help: "DKIM selector" },
  { name: "PAPERMAIL_DKIM_KEY_FILE", default: "(unset)", help: "PEM file of the DKIM private key" },
  { name: "PAPERMAIL_HOST", default: "127.0.0.1", help: "address `serve` listens on" },
  { name: "PAPERMAIL_PORT", default: "8080", help: "port `serve` listens on" },
  { name: "PAPERMAIL_TRUST_PROXY", default: "false", help: "true behind a reverse proxy: rate limits use X-Forwarded-For" },
  { name: "PAPERMAIL_INGEST_CRON", default: "*/10 * * * *", help: "when the scheduler ingests the dump folder" },
  { name: "PAPERMAIL_DIGEST_CRON", default: "0 8 * * *", help: "when the scheduler publishes the daily digest" },
  { name: "PAPERMAIL_WEEKLY_CRON", default: "0 8 * * 1", help: "when the scheduler publishes the weekly digest (for weekly readers), after that day's daily one" },
  { name: "PAPERMAIL_TZ", default: "UTC", help: "time zone of the schedules, e.g. Europe/Paris" },
  { name: "PAPERMAIL_FEED_ITEMS", default: "50", help: "papers in /feed.xml" },
  { name: "PAPERMAIL_CONFIRM_TTL_DAYS", default: "7", help: "days a subscription confirmation link stays valid" },
  { name: "PAPERMAIL_METRICS_TOKEN", default: "(unset: /metrics only on the admin address)", help: "bearer token that /metrics asks for on the site's address" },
  { name: "PAPERMAIL_ADMIN_HOST", default: "(unset: no admin listener)", help: "address of a second listener for operators: the console and /metrics move there, e.g. 127.0.0.1" },
  { name: "PAPERMAIL_ADMIN_PORT", default: "9090", help: "port of the admin listener" },
  { name: "PAPERMAIL_ADMIN_ALLOWED_HOSTS", default: "(unset: the admin host and localhost only)", help: "more host names the admin listener answers to, comma-separated (e.g. the name of an SSH tunnel or VPN address); any other Host gets 421" },
  { name: "PAPERMAIL_ADMIN_EMAIL", default: "(unset: alerts are not mailed)", help: "where alerts are mailed, at most once per alert and day" },
  { name: "PAPERMAIL_ADMIN_PASSWORD", default: "(unset: no console)", help: "password of the operator console /admin, at least 12 characters" },
  { name: "PAPERMAIL_ADMIN_PASSWORD_HASH", default: "(unset)", help: "the console password as `papermail admin hash-password` prints it, instead of the password itself" },
  { name: "PAPERMAIL_STALE_HOURS", default: "36", help: "hours without a new list day (weekends not counted) after which the input is called stale" },
  { name: "PAPERMAIL_LOG_FORMAT", default: "text", help: "text (one human line per event) or json (one JSON object per line)" },
];

/** A PEM certificate file, read once: its text, or an issue naming what is wrong. */
const pemFile = z.string().transform((file, c) => {
  const text = readFileSafe(file);
  if (text === undefined) c.addIssue({ code: "custom", message: "file does not exist or cannot be read" });
  else if (!/-----BEGIN CERTIFICATE-----/.test(text)) c.addIssue({ code: "custom", message: "is not a PEM certificate file (no BEGIN CERTIFICATE line)" });
  return text ?? "";
});
const bool = z.enum(["true", "false", "1", "0"], { error: "must be true or false" });
const cron = z.string().refine((v) => validateCron(v), "must be a cron expression of 5 or 6 fields, e.g. '*/10 * * * *'");
const int = (min: number, max: number) =>
  z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const schema = z.object({
  PAPERMAIL_DB: z.string().min(1).default("./var/papermail.db"),
  PAPERMAIL_DUMPS_DIR: z.string().min(1).optional(),
  PAPERMAIL_HF_API_URL: z.string().refine(isHttpUrl, "must be an http:// or https:// URL").default("https://huggingface.co/api/daily_papers"),
  PAPERMAIL_FETCH_MAX_MB: int(1, 2000).default(50),
  PAPERMAIL_FETCH_CRON: cron.optional(),
  PAPERMAIL_THUMBNAILS: bool.default("false"),
  PAPERMAIL_OUTBOX_DIR: z.string().min(1).default("./var/outbox"),
  PAPERMAIL_SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\/[^/]/i.test(v) && canParseUrl(v), "must be an smtp:// or smtps:// URL, e.g. smtp://localhost:25")
    .optional(),
  PAPERMAIL_SMTP_POOL: int(1, 64).default(16),
  PAPERMAIL_SMTP_CA_FILE: pemFile.optional(),
  PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH: bool.default("false"),
  PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND: z.string().optional(),
  PAPERMAIL_SMTP_OAUTH2_CLIENT_ID: z.string().optional(),
  PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET: z.string().optional(),
  PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN: z.string().optional(),
  PAPERMAIL_SMTP_OAUTH2_TOKEN_URL: z.string().refine(isHttpUrl, "must be an http:// or https:// URL").default("https://oauth2.googleapis.com/token"),
  PAPERMAIL_SMTP_OAUTH2_SCOPE: z.string().optional(),
  PAPERMAIL_RETRY_GIVE_UP_HOURS: int(1, 24 * 30).default(72),
  PAPERMAIL_SMTP_RATE: z.coerce.number({ error: "must be a number of messages per second" }).positive("must be more than 0").max(100_000, "must be at most 100000").optional(),
  PAPERMAIL_SMTP_DAILY_LIMIT: int(1, 100_000_000).optional(),
  PAPERMAIL_BOUNCE_ADDRESS: z.string().refine((v) => isValidAddress(v) && !v.includes("+"), "must be a plain address without '+', e.g. bounces@example.org").optional(),
  PAPERMAIL_BOUNCE_MAILBOX: z
    .string()
    .refine((v) => /^imaps?:\/\/[^/]/i.test(v) && canParseUrl(v), "must be an imaps:// or imap:// URL, e.g. imaps://user:pass@mail.example.org/INBOX")
    .optional(),
  PAPERMAIL_BOUNCE_CRON: cron.default("*/15 * * * *"),
  PAPERMAIL_BOUNCE_CA_FILE: pemFile.optional(),
  PAPERMAIL_BOUNCE_MAX_MB: int(1, 1000).default(5),
  PAPERMAIL_SOFT_BOUNCE_LIMIT: int(1, 100).default(3),
  PAPERMAIL_SOFT_BOUNCE_DAYS: int(1, 365).default(15),
  PAPERMAIL_LEDGER_DAYS: int(1, 3650).default(30),
  PAPERMAIL_SECRET_PREVIOUS: z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((s) => s === "generated" || s.length >= 32, "each secret must be at least 32 characters (or the word generated)")))
    .default([]),
  PAPERMAIL_UNDO_DAYS: int(0, 365).default(7),
  PAPERMAIL_FROM: z.string().refine(isValidFrom, "must be an address or 'Name <address>' on one line").default("papermail <papermail@localhost>"),
  PAPERMAIL_PUBLIC_URL: z
    .string()
    .refine(isHttpUrl, "must be an http:// or https:// URL")
    // It is written into mail headers as it is.
    .refine((v) => !/[\s\x00-\x1f\x7f]/.test(v), "must not contain spaces, line breaks or control characters")
    .transform((v) => v.replace(/\/+$/, ""))
    .optional(),
  PAPERMAIL_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  PAPERMAIL_MAX_PAPERS: int(1, 1000).default(30),
  PAPERMAIL_MIN_UPVOTES: int(0, 1_000_000).default(0),
  PAPERMAIL_CATCH_UP_DAYS: int(1, 366).default(3),
  PAPERMAIL_INCLUDE_TODAY: bool.default("false"),
  PAPERMAIL_DKIM_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/i, "must be a domain name").optional(),
  PAPERMAIL_DKIM_SELECTOR: z.string().regex(/^[a-z0-9._-]+$/i, "must be a DKIM selector").optional(),
  PAPERMAIL_DKIM_KEY_FILE: z.string().refine(existsSync, "file does not exist").optional(),
  PAPERMAIL_HOST: z.string().min(1).default("127.0.0.1"),
  PAPERMAIL_PORT: int(0, 65535).default(8080),
  PAPERMAIL_TRUST_PROXY: bool.default("false"),
  PAPERMAIL_INGEST_CRON: cron.default("*/10 * * * *"),
  PAPERMAIL_DIGEST_CRON: cron.default("0 8 * * *"),
  PAPERMAIL_WEEKLY_CRON: cron.default("0 8 * * 1"),
  PAPERMAIL_TZ: z.string().refine(isTimeZone, "must be an IANA time zone such as UTC or Europe/Paris").default("UTC"),
  PAPERMAIL_FEED_ITEMS: int(1, 10000).default(50),
  PAPERMAIL_CONFIRM_TTL_DAYS: int(1, 365).default(7),
  PAPERMAIL_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces").optional(),
  PAPERMAIL_ADMIN_HOST: z.string().min(1).optional(),
  PAPERMAIL_ADMIN_PORT: int(0, 65535).default(9090),
  PAPERMAIL_ADMIN_ALLOWED_HOSTS: z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/, "each must be a host name or address without a port, e.g. admin.internal or [fd00::1]")))
    .default([]),
  PAPERMAIL_ADMIN_EMAIL: z.string().refine(isValidAddress, "must be an email address").optional(),
  PAPERMAIL_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  PAPERMAIL_ADMIN_PASSWORD_HASH: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, "must be what `papermail admin hash-password` prints (scrypt$...)").optional(),
  PAPERMAIL_STALE_HOURS: int(1, 24 * 60).default(36),
  PAPERMAIL_LOG_FORMAT: z.enum(["text", "json"], { error: "must be text or json" }).default("text"),
});

/** The resolved configuration every command receives. */
export interface Config {
  /** PAPERMAIL_* variables that are not settings, each with the closest one: printed once at start. */
  warnings: string[];
  dbPath: string;
  dumpsDir: string;
  /**
   * Nothing configured (no PAPERMAIL_DUMPS_DIR, no PAPERMAIL_SMTP_URL): the dumps are
   * the bundled samples, marked as demo papers. A configured installation never
   * puts a demo paper in a digest.
   */
  demo: boolean;
  hfApiUrl: string;
  /** The largest answer `fetch` reads, in bytes. */
  fetchMaxBytes: number;
  fetchCron: string | undefined;
  thumbnails: boolean;
  outboxDir: string;
  smtpUrl: string | undefined;
  smtpPool: number;
  /** PEM of a private CA to trust, besides the system's. */
  smtpCa: string | undefined;
  smtpAllowPlaintextAuth: boolean;
  /** XOAUTH2 login settings, instead of the URL's password. */
  smtpOAuth2: OAuth2Settings | undefined;
  retryGiveUpHours: number;
  /** Messages per second, shared by every connection and process; undefined = unlimited. */
  smtpRate: number | undefined;
  smtpDailyLimit: number | undefined;
  bounceAddress: string | undefined;
  bounceMailbox: string | undefined;
  bounceCron: string;
  bounceCa: string | undefined;
  /** The largest bounce message read, in bytes (PAPERMAIL_BOUNCE_MAX_MB). */
  bounceMaxBytes: number;
  softBounceLimit: number;
  softBounceDays: number;
  ledgerDays: number;
  /** Earlier secrets the operator lists ("generated" = the one kept in the database). */
  secretPrevious: string[];
  /** Days a reader's own latest unsubscribe can be undone (PAPERMAIL_UNDO_DAYS). */
  undoDays: number;
  from: string;
  publicUrl: string;
  /** True when PAPERMAIL_PUBLIC_URL was given; else publicUrl is a guess for a local trial. */
  publicUrlSet: boolean;
  secret: string | undefined;
  maxPapers: number;
  /** Upvote floor of daily digests (PAPERMAIL_MIN_UPVOTES). */
  minUpvotes: number;
  /** Newest list days a daily digest reaches back over (PAPERMAIL_CATCH_UP_DAYS). */
  catchUpDays: number;
  /** The list day in progress counts as complete (PAPERMAIL_INCLUDE_TODAY). */
  includeToday: boolean;
  dkim: { domainName: string; keySelector: string; privateKey: string } | undefined;
  host: string;
  port: number;
  trustProxy: boolean;
  ingestCron: string;
  digestCron: string;
  weeklyCron: string;
  timeZone: string;
  feedItems: number;
  confirmTtlDays: number;
  /** Bearer token of /metrics on the site's address; undefined: /metrics only on the admin listener. */
  metricsToken: string | undefined;
  /** The operators' listener (PAPERMAIL_ADMIN_HOST/PORT), when configured. */
  admin: { host: string; port: number } | undefined;
  /** Host names the admin listener answers besides its own and localhost (PAPERMAIL_ADMIN_ALLOWED_HOSTS). */
  adminAllowedHosts: string[];
  adminEmail: string | undefined;
  /** The console's password, plain or as a scrypt hash; undefined: no console. */
  adminPassword: { plain: string } | { hash: string } | undefined;
  staleHours: number;
  logFormat: "text" | "json";
}

/**
 * Reads PAPERMAIL_* from the environment and from `.env` in the working directory
 * (the environment wins). Throws one CONFIG error naming the first bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const merged: Record<string, string | undefined> = { ...readDotEnv(cwd) };
  for (const [k, v] of Object.entries(env)) if (k.startsWith("PAPERMAIL_")) merged[k] = v;
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  for (const k of Object.keys(merged)) if (merged[k] === "") delete merged[k];

  const warnings = unknownVariables(Object.keys(merged));
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "configuration");
    const value = merged[name];
    const secretive = ["PAPERMAIL_SECRET", "PAPERMAIL_METRICS_TOKEN", "PAPERMAIL_ADMIN_PASSWORD", "PAPERMAIL_ADMIN_PASSWORD_HASH", "PAPERMAIL_SECRET_PREVIOUS", "PAPERMAIL_SMTP_URL", "PAPERMAIL_BOUNCE_MAILBOX", "PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET", "PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN", "PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND"].includes(name);
    const shown = value === undefined || secretive ? "" : ` (got "${value}")`;
    throw new PapermailError("CONFIG", `${name}: ${issue.message}${shown}`, { variable: name });
  }
  const e = parsed.data;
  const dkimParts = [e.PAPERMAIL_DKIM_DOMAIN, e.PAPERMAIL_DKIM_SELECTOR, e.PAPERMAIL_DKIM_KEY_FILE];
  if (dkimParts.some(Boolean) && !dkimParts.every(Boolean)) {
    throw new PapermailError("CONFIG", "PAPERMAIL_DKIM_DOMAIN, PAPERMAIL_DKIM_SELECTOR and PAPERMAIL_DKIM_KEY_FILE must be set together", {
      variable: "PAPERMAIL_DKIM_DOMAIN",
    });
  }
  const smtpOAuth2 = oauth2Settings(e);
  const demo = !e.PAPERMAIL_DUMPS_DIR && !e.PAPERMAIL_SMTP_URL;
  return {
    warnings,
    dbPath: resolve(cwd, e.PAPERMAIL_DB),
    dumpsDir: e.PAPERMAIL_DUMPS_DIR ? resolve(cwd, e.PAPERMAIL_DUMPS_DIR) : demo ? SAMPLES_DIR : resolve(cwd, "dumps"),
    demo,
    hfApiUrl: e.PAPERMAIL_HF_API_URL,
    fetchMaxBytes: e.PAPERMAIL_FETCH_MAX_MB * 1024 * 1024,
    fetchCron: e.PAPERMAIL_FETCH_CRON,
    thumbnails: isTrue(e.PAPERMAIL_THUMBNAILS),
    outboxDir: resolve(cwd, e.PAPERMAIL_OUTBOX_DIR),
    smtpUrl: e.PAPERMAIL_SMTP_URL,
    smtpPool: e.PAPERMAIL_SMTP_POOL,
    smtpCa: e.PAPERMAIL_SMTP_CA_FILE,
    smtpAllowPlaintextAuth: isTrue(e.PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH),
    smtpOAuth2,
    retryGiveUpHours: e.PAPERMAIL_RETRY_GIVE_UP_HOURS,
    smtpRate: e.PAPERMAIL_SMTP_RATE,
    smtpDailyLimit: e.PAPERMAIL_SMTP_DAILY_LIMIT,
    bounceAddress: e.PAPERMAIL_BOUNCE_ADDRESS,
    bounceMailbox: e.PAPERMAIL_BOUNCE_MAILBOX,
    bounceCron: e.PAPERMAIL_BOUNCE_CRON,
    bounceCa: e.PAPERMAIL_BOUNCE_CA_FILE,
    bounceMaxBytes: e.PAPERMAIL_BOUNCE_MAX_MB * 1024 * 1024,
    softBounceLimit: e.PAPERMAIL_SOFT_BOUNCE_LIMIT,
    softBounceDays: e.PAPERMAIL_SOFT_BOUNCE_DAYS,
    ledgerDays: e.PAPERMAIL_LEDGER_DAYS,
    secretPrevious: e.PAPERMAIL_SECRET_PREVIOUS,
    undoDays: e.PAPERMAIL_UNDO_DAYS,
    from: e.PAPERMAIL_FROM,
    publicUrl: e.PAPERMAIL_PUBLIC_URL ?? `http://localhost:${e.PAPERMAIL_PORT}`,
    publicUrlSet: e.PAPERMAIL_PUBLIC_URL !== undefined,
    secret: e.PAPERMAIL_SECRET,
    maxPapers: e.PAPERMAIL_MAX_PAPERS,
    minUpvotes: e.PAPERMAIL_MIN_UPVOTES,
    catchUpDays: e.PAPERMAIL_CATCH_UP_DAYS,
    includeToday: isTrue(e.PAPERMAIL_INCLUDE_TODAY),
    dkim:
      e.PAPERMAIL_DKIM_DOMAIN && e.PAPERMAIL_DKIM_SELECTOR && e.PAPERMAIL_DKIM_KEY_FILE
        ? { domainName: e.PAPERMAIL_DKIM_DOMAIN, keySelector: e.PAPERMAIL_DKIM_SELECTOR, privateKey: readFileSync(e.PAPERMAIL_DKIM_KEY_FILE, "utf8") }
        : undefined,
    host: e.PAPERMAIL_HOST,
    port: e.PAPERMAIL_PORT,
    trustProxy: isTrue(e.PAPERMAIL_TRUST_PROXY),
    ingestCron: e.PAPERMAIL_INGEST_CRON,
    digestCron: e.PAPERMAIL_DIGEST_CRON,
    weeklyCron: e.PAPERMAIL_WEEKLY_CRON,
    timeZone: e.PAPERMAIL_TZ,
    feedItems: e.PAPERMAIL_FEED_ITEMS,
    confirmTtlDays: e.PAPERMAIL_CONFIRM_TTL_DAYS,
    metricsToken: e.PAPERMAIL_METRICS_TOKEN,
    admin: e.PAPERMAIL_ADMIN_HOST ? { host: e.PAPERMAIL_ADMIN_HOST, port: e.PAPERMAIL_ADMIN_PORT } : undefined,
    adminAllowedHosts: e.PAPERMAIL_ADMIN_ALLOWED_HOSTS,
    adminEmail: e.PAPERMAIL_ADMIN_EMAIL,
    adminPassword: e.PAPERMAIL_ADMIN_PASSWORD_HASH ? { hash: e.PAPERMAIL_ADMIN_PASSWORD_HASH } : e.PAPERMAIL_ADMIN_PASSWORD ? { plain: e.PAPERMAIL_ADMIN_PASSWORD } : undefined,
    staleHours: e.PAPERMAIL_STALE_HOURS,
    logFormat: e.PAPERMAIL_LOG_FORMAT,
  };
}

/**
 * XOAUTH2 settings, checked together: a token command, or a client id with a
 * refresh token; the user is the one in PAPERMAIL_SMTP_URL, which then carries no password.
 */
function oauth2Settings(e: z.infer<typeof schema>): OAuth2Settings | undefined {
  const fail = (variable: string, message: string) => {
    throw new PapermailError("CONFIG", `${variable}: ${message}`, { variable });
  };
  const command = e.PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND;
  const refresh = [e.PAPERMAIL_SMTP_OAUTH2_CLIENT_ID, e.PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN, e.PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET, e.PAPERMAIL_SMTP_OAUTH2_SCOPE];
  if (!command && !refresh.some(Boolean)) return undefined;
  if (command && refresh.some(Boolean)) fail("PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND", "set either a token command or a refresh token (PAPERMAIL_SMTP_OAUTH2_CLIENT_ID, _REFRESH_TOKEN), not both");
  const url = e.PAPERMAIL_SMTP_URL ? new URL(e.PAPERMAIL_SMTP_URL) : undefined;
  if (!url?.username) fail("PAPERMAIL_SMTP_URL", "OAuth2 needs the account to log in as in the URL, e.g. smtps://you%40example.org@smtp.gmail.com:465");
  if (url?.password) fail("PAPERMAIL_SMTP_URL", "with OAuth2 the URL carries no password (the access token replaces it)");
  if (command) return { command };
  if (!e.PAPERMAIL_SMTP_OAUTH2_CLIENT_ID) fail("PAPERMAIL_SMTP_OAUTH2_CLIENT_ID", "must be set with PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN");
  if (!e.PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN) fail("PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN", "must be set with PAPERMAIL_SMTP_OAUTH2_CLIENT_ID");
  return {
    clientId: e.PAPERMAIL_SMTP_OAUTH2_CLIENT_ID!,
    clientSecret: e.PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET,
    refreshToken: e.PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN!,
    tokenUrl: e.PAPERMAIL_SMTP_OAUTH2_TOKEN_URL,
    scope: e.PAPERMAIL_SMTP_OAUTH2_SCOPE,
  };
}

function isTrue(v: string): boolean {
  return v === "true" || v === "1";
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * PAPERMAIL_* variables papermail does not know, each with the closest known name:
 * a typo would otherwise be ignored without a word.
 */
function unknownVariables(names: readonly string[]): string[] {
  const known = ENV_DOCS.map((v) => v.name);
  const extra = ["PAPERMAIL_DEBUG"];
  const warnings: string[] = [];
  for (const name of names) {
    if (known.includes(name) || extra.includes(name)) continue;
    const closest = known.reduce((best, k) => (editDistance(name, k) < editDistance(name, best) ? k : best));
    warnings.push(`${name} is not a papermail setting and is ignored (did you mean ${closest}?)`);
  }
  return warnings;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), for
 * suggesting the setting someone meant: PAPERMAIL_PROT is one swap from
 * PAPERMAIL_PORT, where plain Levenshtein finds PAPERMAIL_FROM just as close.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function readDotEnv(cwd: string): Record<string, string> {
  const file = resolve(cwd, ".env");
  if (!existsSync(file)) return {};
  try {
    return parseEnv(readFileSync(file, "utf8")) as Record<string, string>;
  } catch (err) {
    throw new PapermailError("CONFIG", `${file}: cannot be read as a .env file`, { file }, { cause: err });
  }
}

function canParseUrl(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function isValidFrom(v: string): boolean {
  if (/[\r\n]/.test(v)) return false;
  const { address } = parseFrom(v);
  return isValidAddress(address);
}
