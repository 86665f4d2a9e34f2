import { catchUpSearchIndex } from "../store/search-index.js";
import { recordFetchRun } from "../store/operations.js";
import { readFileSync } from "node:fs";
import type { CommandContext } from "../context.js";
import { describeError } from "../errors.js";
import { ingestFile } from "../ingest/ingest-file.js";
import { fetchDailyPapers, type FetchOptions } from "./daily-papers.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** The User-Agent of every request to the daily_papers API. */
export const USER_AGENT = `papermail/${version} (self-hosted paper digest)`;

/** What fetching and ingesting one day did. */
export interface DayResult {
  date: string;
  file?: string;
  entries?: number;
  new?: number;
  updated?: number;
  error?: string;
}

/**
 * Fetches the daily_papers JSON of `days` days ending at `date` (today by default)
 * into the dumps folder and ingests each; shared by `papermail fetch` and the
 * scheduler. A day that fails is reported and the others still land.
 */
export async function fetchDays(
  ctx: Pick<CommandContext, "db" | "clock" | "config">,
  flags: { date?: string; days: number; signal?: AbortSignal; http?: Partial<FetchOptions> },
  onDay?: (r: DayResult) => void,
): Promise<DayResult[]> {
  const start = flags.date ? new Date(`${flags.date}T12:00:00Z`) : ctx.clock.now();
  const results: DayResult[] = [];
  for (let i = 0; i < flags.days; i++) {
    const date = new Date(start.getTime() - i * 86400_000).toISOString().slice(0, 10);
    let r: DayResult;
    try {
      const day = await fetchDailyPapers(date, ctx.clock.now(), {
        apiUrl: ctx.config.hfApiUrl,
        dumpsDir: ctx.config.fetchDir,
        userAgent: USER_AGENT,
        maxBytes: ctx.config.fetchMaxBytes,
        signal: flags.signal,
        ...flags.http,
      });
      if (day.file === null) r = { date, entries: 0, new: 0, updated: 0 };
      else {
        const ingested = await ingestFile(ctx, day.file, { capturedAt: ctx.clock.now(), listDay: date });
        r = { date, file: day.file, entries: day.entries, new: ingested.new, updated: ingested.updated, error: ingested.error ?? undefined };
      }
    } catch (err) {
      r = { date, error: describeError(err) };
    }
    results.push(r);
    onDay?.(r);
  }
  catchUpSearchIndex(ctx.db);
  recordFetchRun(ctx.db, ctx.clock.now().toISOString(), results.length > 0 && results.every((r) => r.error !== undefined));
  return results;
}
