import { randomBytes } from "node:crypto";
import type { Db } from "./db.js";

/**
 * The signing secret: PAPERMAIL_SECRET when given, else one generated on first
 * use and kept in the database (two processes starting together agree on it).
 */
export function resolveSecret(db: Db, configured: string | undefined): string {
  if (configured) return configured;
  db.prepare("INSERT OR IGNORE INTO settings (name, value) VALUES ('secret', ?)").run(randomBytes(32).toString("base64url"));
  return db.prepare<[], { value: string }>("SELECT value FROM settings WHERE name = 'secret'").get()!.value;
}
