import { loadConfig } from "../config/load.js";
import type { CommandContext } from "../commands/context.js";
import { createContext } from "../context.js";

export type WithContext = typeof withContext;

/** Runs one command with a fresh context (configuration, database, clock); configuration errors exit 2. */
export async function withContext(run: (ctx: CommandContext) => number | Promise<number>): Promise<void> {
  const config = loadConfig();
  for (const warning of config.warnings) process.stderr.write(`papermail: warning: ${warning}\n`);
  const ctx = createContext(config);
  try {
    process.exitCode = await run(ctx);
  } finally {
    ctx.db.close();
  }
}
