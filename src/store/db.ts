import Database from "better-sqlite3";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { rekeyPapers } from "./rekey-papers.js";
import { unwrapStoredText } from "./unwrap-text.js";

export type Db = Database.Database;

const MIGRATIONS_DIR = fileURLToPath(new URL("../../db/", import.meta.url));
/**
 * How long a writer waits, blocking, for another process's write to finish. The
 * server opens its database with a far shorter wait: its event loop must not stall.
 */
const BUSY_TIMEOUT_MS = 15_000;

/**
 * Opens (creating folder and file as needed) the database in WAL mode with a busy
 * timeout, so the scheduler and a manual command can share it, and applies
 * any migrations from db/ not applied yet.
 */
export function openDatabase(path: string, options: { busyTimeoutMs?: number; cacheMb?: number } = {}): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS });
  // Abstracts make rows of 1-2 KB: larger pages write dumps faster. Takes effect on a new file only.
  db.pragma("page_size = 16384");
  db.pragma("journal_mode = WAL");
  db.pragma(`cache_size = -${(options.cacheMb ?? 64) * 1024}`);
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  migrate(db);
  return db;
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement, prepared once per connection: for queries on hot paths (one per message sent). */
export function cachedStatement<P extends unknown[] = unknown[], R = unknown>(db: Db, sql: string): Database.Statement<P, R> {
  let byDb = statements.get(db);
  if (!byDb) statements.set(db, (byDb = new Map()));
  let stmt = byDb.get(sql);
  if (!stmt) byDb.set(sql, (stmt = db.prepare(sql)));
  return stmt as unknown as Database.Statement<P, R>;
}

/** Throws unless the database can be read now: what a health check asks first. */
export function assertReadable(db: Db): void {
  cachedStatement(db, "SELECT count(*) FROM digests").get();
}

/** Data changes that SQL alone cannot make, run right after their migration in the same transaction. */
const AFTER_MIGRATION: Record<string, (db: Db) => void> = {
  "004_paper_identity.sql": rekeyPapers,
  "011_unwrapped_text.sql": unwrapStoredText,
};

/** Applies db/NNN_*.sql in order; the schema version is SQLite's user_version. */
function migrate(db: Db): void {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort();
  const latest = files.length;
  const applied = db.pragma("user_version", { simple: true }) as number;
  if (applied >= latest) return;
  // A migration that rebuilds a table runs with foreign keys off (they cannot change
  // inside a transaction) and checks them itself before committing.
  const rebuilds = files.slice(applied).some((f) => readFileSync(MIGRATIONS_DIR + f, "utf8").startsWith("-- papermail: foreign_keys=off"));
  if (rebuilds) db.pragma("foreign_keys = OFF");
  try {
    // IMMEDIATE: two processes starting together apply each migration once.
    db.transaction(() => {
      const current = db.pragma("user_version", { simple: true }) as number;
      for (const file of files.slice(current)) {
        db.exec(readFileSync(MIGRATIONS_DIR + file, "utf8"));
        AFTER_MIGRATION[file]?.(db);
      }
      if (rebuilds) {
        const broken = db.pragma("foreign_key_check") as unknown[];
        if (broken.length > 0) throw new Error(`migration left ${broken.length} broken foreign key(s)`);
      }
      db.pragma(`user_version = ${latest}`);
    }).immediate();
  } finally {
    if (rebuilds) db.pragma("foreign_keys = ON");
  }
}
