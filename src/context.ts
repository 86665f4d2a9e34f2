import type { Config } from "./config/load.js";
import { PapermailError, describeError } from "./errors.js";
import { openDatabase, type Db } from "./store/db.js";
import { readSetting, SITE_ADDRESS_SETTING } from "./store/settings.js";
import { applyJournalledUnsubscribes, journalDir } from "./subscribers/unsubscribe-journal.js";
import { neutralise } from "./util/neutralise.js";
import { systemClock, type Clock } from "./util/time.js";

/** What every command and the scheduler receive: configuration, the open database, a clock, and where to print. */
export interface CommandContext {
  config: Config;
  db: Db;
  clock: Clock;
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Without PAPERMAIL_PUBLIC_URL, links point at the address `serve` last recorded
 * (a trial with PAPERMAIL_PORT set in the server's terminal only still gets working
 * links from a command run in another); a configured installation must set it.
 */
function withSiteAddress(db: Db, config: Config): Config {
  if (config.publicUrlSet) return config;
  const served = readSetting(db, SITE_ADDRESS_SETTING);
  return served ? { ...config, publicUrl: served } : config;
}

/** Builds the context of a CLI run; a database that cannot be opened is a configuration error naming PAPERMAIL_DB. */
export function createContext(config: Config, options: { busyTimeoutMs?: number; cacheMb?: number } = {}): CommandContext {
  let db: Db;
  try {
    db = openDatabase(config.dbPath, options);
  } catch (err) {
    throw new PapermailError("CONFIG", `PAPERMAIL_DB: cannot open the database ${config.dbPath}: ${describeError(err)}`, { variable: "PAPERMAIL_DB" }, { cause: err });
  }
  // Unsubscribes that waited out another process's write lock are applied before any command acts on readers.
  applyJournalledUnsubscribes(db, journalDir(config.dbPath), (line) => process.stderr.write(`${neutralise(line)}\n`));
  return {
    config: withSiteAddress(db, config),
    db,
    clock: systemClock,
    out: (line) => process.stdout.write(`${neutralise(line)}\n`),
    err: (line) => process.stderr.write(`${neutralise(line)}\n`),
  };
}

