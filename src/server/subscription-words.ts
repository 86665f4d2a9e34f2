import type { Config } from "../config/load.js";
import type { ReaderChoices } from "../model/choices.js";
import { nextSlot } from "../scheduler/slots.js";

/**
 * When a new reader's first email comes: the next scheduled digest of their cadence,
 * as a date and time in the site's time zone ("Thursday, December 3 at 08:00 UTC").
 * A digest goes out only when Hugging Face listed new papers, so it says "planned".
 */
export function firstEmail(config: Pick<Config, "digestCron" | "weeklyCron" | "timeZone">, cadence: ReaderChoices["cadence"], now: Date): string {
  const slot = nextSlot(cadence === "weekly" ? config.weeklyCron : config.digestCron, config.timeZone, now);
  if (!slot) return `Your first email is the next ${cadence} digest.`;
  const when = new Intl.DateTimeFormat("en-US", {
    timeZone: config.timeZone,
    weekday: "long",
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(slot);
  return `Your first email is the next ${cadence} digest, planned for ${when.replace(/, (\d\d:\d\d)/, " at $1")}.`;
}
