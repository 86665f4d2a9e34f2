import { statSync } from "node:fs";
import { compactLedger, ledgerSize } from "../store/compaction.js";
import { pruneConfirmationSends } from "../store/consent.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

/** `papermail maintenance compact`: ledger rows of digests finished over PAPERMAIL_LEDGER_DAYS ago become per-digest counts. */
export async function runCompact(ctx: CommandContext, flags: { json: boolean }): Promise<number> {
  const before = new Date(ctx.clock.now().getTime() - ctx.config.ledgerDays * 86400_000).toISOString();
  const result = await compactLedger(ctx.db, before, ctx.clock.now().toISOString(), { onDigest: (id, rows) => !flags.json && ctx.out(`digest #${id}: ${rows} ledger rows compacted into counts`) });
  pruneConfirmationSends(ctx.db, ctx.clock.now());
  const size = ledgerSize(ctx.db);
  if (flags.json) printJson(ctx, { ...result, before, remainingRows: size.rows, compactedDigests: size.compactedDigests });
  else ctx.out(`${result.digests} digest(s) finished before ${before} compacted (${result.rows} rows); ${size.rows} ledger rows kept.`);
  return EXIT.ok;
}

/** `papermail maintenance backup FILE`: a consistent copy of the database, made while it is in use (SQLite's online backup). */
export async function runBackup(ctx: CommandContext, file: string, flags: { json: boolean }): Promise<number> {
  const started = Date.now();
  await ctx.db.backup(file);
  const bytes = statSync(file).size;
  if (flags.json) printJson(ctx, { file, bytes, seconds: (Date.now() - started) / 1000 });
  else ctx.out(`Wrote ${displayPath(file)} (${(bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return EXIT.ok;
}
