import { randomBytes } from "node:crypto";
import { cachedStatement, type Db } from "./db.js";

/**
 * The signing secret: PAPERMAIL_SECRET when given, else one generated on first
 * use and kept in the database (two processes starting together agree on it).
 */
export function resolveSecret(db: Db, configured: string | undefined): string {
  if (configured) return configured;
  // Read first: checking a link must not need the write lock (a long ingest may hold it).
  const stored = readSetting(db, "secret");
  if (stored) return stored;
  db.prepare("INSERT OR IGNORE INTO settings (name, value) VALUES ('secret', ?)").run(randomBytes(32).toString("base64url"));
  return readSetting(db, "secret")!;
}

/** The word in PAPERMAIL_SECRET_PREVIOUS that stands for the secret papermail generated and kept in the database. */
export const GENERATED_SECRET = "generated";

/**
 * The secrets that tokens are checked against: exactly the current one, then those the
 * operator lists in PAPERMAIL_SECRET_PREVIOUS (where `generated` names the one papermail
 * generated before PAPERMAIL_SECRET was set). A secret nobody lists signs nothing: after
 * a rotation, links made with an unlisted secret stop working.
 */
export function resolveSecrets(db: Db, config: { secret: string | undefined; secretPrevious: readonly string[] }): string[] {
  const current = resolveSecret(db, config.secret);
  const listed = config.secretPrevious.map((s) => (s === GENERATED_SECRET ? readSetting(db, "secret") : s));
  return [...new Set([current, ...listed].filter((s): s is string => Boolean(s)))];
}

/** True when PAPERMAIL_SECRET replaced a generated secret that PAPERMAIL_SECRET_PREVIOUS does not list: links mailed before stopped working. */
export function generatedSecretDropped(db: Db, config: { secret: string | undefined; secretPrevious: readonly string[] }): boolean {
  return Boolean(config.secret) && readSetting(db, "secret") !== undefined && !config.secretPrevious.includes(GENERATED_SECRET);
}

/** Where `serve` last listened, as a URL: the links of a trial without PAPERMAIL_PUBLIC_URL. */
export const SITE_ADDRESS_SETTING = "site_address";

/** A named value the application keeps, if set. */
export function readSetting(db: Db, name: string): string | undefined {
  return cachedStatement<[string], { value: string }>(db, "SELECT value FROM settings WHERE name = ?").get(name)?.value;
}

/** Sets a named value. */
export function writeSetting(db: Db, name: string, value: string): void {
  cachedStatement(db, "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value").run(name, value);
}
