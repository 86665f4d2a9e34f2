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

/**
 * The secrets that tokens are checked against: the current one first, then the one
 * before a rotation, then the one papermail generated before PAPERMAIL_SECRET was set
 * (setting it for the first time must not break the links already mailed).
 */
export function resolveSecrets(db: Db, config: { secret: string | undefined; secretPrevious: string | undefined }): string[] {
  const current = resolveSecret(db, config.secret);
  const generated = config.secret ? readSetting(db, "secret") : undefined;
  return [...new Set([current, config.secretPrevious, generated].filter((s): s is string => Boolean(s)))];
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
