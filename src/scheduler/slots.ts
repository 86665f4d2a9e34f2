import { createTask, parse } from "node-cron";
import type { Config } from "../config/load.js";

const MINUTE = 60_000;
/** How far slot searches look: a month covers every daily, weekly and monthly schedule. */
const HORIZON_MS = 32 * 24 * 60 * MINUTE;

/** The latest minute at or before `at` that the cron expression names, within a month. */
export function previousSlot(expression: string, timeZone: string, at: Date): Date | undefined {
  return scan(expression, timeZone, at, -1);
}

/** The first minute after `at` that the cron expression names, within a month. */
export function nextSlot(expression: string, timeZone: string, at: Date): Date | undefined {
  return scan(expression, timeZone, new Date(at.getTime() + MINUTE), 1);
}

/** Next ingest, daily and weekly digest times, for `status`. */
export function nextRuns(config: Config, at: Date): { ingest: string | null; digest: string | null; weekly: string | null } {
  return {
    ingest: nextSlot(config.ingestCron, config.timeZone, at)?.toISOString() ?? null,
    digest: nextSlot(config.digestCron, config.timeZone, at)?.toISOString() ?? null,
    weekly: nextSlot(config.weeklyCron, config.timeZone, at)?.toISOString() ?? null,
  };
}

/**
 * Walks minute by minute, skipping whole hours whose month or hour cannot match;
 * node-cron's own matcher has the final word (day-of-month/-week rules, time zone).
 */
function scan(expression: string, timeZone: string, from: Date, step: 1 | -1): Date | undefined {
  const fields = parse(expression);
  const second = fields.second[0] ?? 0;
  const task = createTask(expression, () => undefined, { timezone: timeZone });
  const fmt = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", month: "numeric", hour: "numeric", minute: "numeric" });
  try {
    const start = Math.floor(from.getTime() / MINUTE) * MINUTE;
    for (let t = start; Math.abs(t - start) <= HORIZON_MS; ) {
      const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
      const [month, hour, minute] = [Number(parts.month), Number(parts.hour), Number(parts.minute)];
      if (!fields.month.includes(month) || !fields.hour.includes(hour)) {
        t += step > 0 ? (60 - minute) * MINUTE : -(minute + 1) * MINUTE;
        continue;
      }
      if (fields.minute.includes(minute)) {
        const candidate = new Date(t + second * 1000);
        if (task.match(candidate)) return candidate;
        // Right hour and minute, wrong day: no minute of this hour matches.
        t += step > 0 ? (60 - minute) * MINUTE : -(minute + 1) * MINUTE;
        continue;
      }
      t += step * MINUTE;
    }
    return undefined;
  } finally {
    void task.destroy();
  }
}
