import { relative, isAbsolute } from "node:path";
import type { Config } from "../config.js";
import { openDatabase, type Db } from "../store/db.js";
import { systemClock, type Clock } from "../util/time.js";

/** What every command receives: configuration, the open database, a clock, and where to print. */
export interface CommandContext {
  config: Config;
  db: Db;
  clock: Clock;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Builds the context of a CLI run. */
export function createContext(config: Config): CommandContext {
  return {
    config,
    db: openDatabase(config.dbPath),
    clock: systemClock,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Prints one JSON document, the whole of a command's `--json` output. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** Exit codes other people script against. */
export const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;
