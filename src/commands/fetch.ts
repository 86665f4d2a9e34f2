import { watchInstallation } from "../alarms/watch.js";
import { fetchDays, type DayResult } from "../fetch/fetch-days.js";
import { displayPath, EXIT, printJson, type CommandContext } from "./context.js";

/**
 * `papermail fetch [--date D] [--days N]`: downloads the daily_papers JSON of each day
 * into the dumps folder and ingests it. A day fetched again later updates upvotes and
 * adds papers; nothing is duplicated.
 */
export async function runFetch(ctx: CommandContext, flags: { date?: string; days: number; json: boolean }): Promise<number> {
  const results = await fetchDays(ctx, flags, (r) => !flags.json && describe(ctx, r));
  if (flags.json) printJson(ctx, { days: results.map((r) => ({ ...r, file: r.file && displayPath(r.file) })) });
  await watchInstallation(ctx, ctx.err);
  return results.some((r) => r.error) ? EXIT.rejected : EXIT.ok;
}

function describe(ctx: CommandContext, r: DayResult): void {
  if (r.error) return ctx.err(`failed     ${r.date}: ${r.error}`);
  if (r.entries === 0) return ctx.out(`empty      ${r.date}: the list has no papers yet`);
  ctx.out(`fetched    ${r.date}: ${r.entries} entries into ${displayPath(r.file!)}; ${r.new} new and ${r.updated} updated papers`);
}
