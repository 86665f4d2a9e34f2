import type { Config } from "../config/load.js";
import type { Db } from "../store/db.js";
import { countDeliveries } from "../store/deliveries.js";
import { latestDigest } from "../store/digests.js";
import { recentIngestedDumps } from "../store/dumps.js";
import { newestListDay } from "../store/list-days.js";
import { fetchFailuresInARow } from "../store/operations.js";
import { complaintRate, COMPLAINT_WINDOW_DAYS } from "../store/complaint-rate.js";
import { shortDay } from "../util/time.js";

/** A problem with the input or the sends, as a check finds it: its kind (one alert per kind) and what to tell the operator. */
export interface Problem {
  kind: "shrunken-dump" | "stale-input" | "fetch-failing" | "digest-failing" | "complaints-warning" | "complaints-critical";
  message: string;
}

/** A dump that gives less than this share of the recent median for its kind is suspicious. */
const SHRUNK = 0.5;
/** The dumps of a kind the median is taken over. */
const RECENT_DUMPS = 10;
/** Fetch runs that must fail in a row before anyone is told (one can be a blip). */
const FETCH_FAILURES = 3;

/** Complaint rates the mailbox providers act on: Gmail's guidance is to stay under 0.1%, and never reach 0.3%. */
export const COMPLAINT_WARNING = 0.001;
export const COMPLAINT_CRITICAL = 0.003;
/** Fewer messages than this in the window: a single complaint is noise, not a rate. */
const COMPLAINT_MIN_DELIVERED = 1000;

/** The kind of a dump, by what its file holds: daily_papers JSON or page text. */
function dumpKind(path: string): "JSON" | "page text" {
  return /\.jsonl?$/i.test(path) ? "JSON" : "page text";
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Hours from `from` to `to` that are not on a Saturday or Sunday (UTC): Hugging Face
 * lists few papers at weekends, so a quiet weekend is no stalled input.
 */
export function weekdayHoursBetween(from: Date, to: Date): number {
  let hours = 0;
  for (let t = from.getTime(); t < to.getTime(); t += 3600_000) {
    const day = new Date(t).getUTCDay();
    if (day !== 0 && day !== 6) hours += Math.min(1, (to.getTime() - t) / 3600_000);
  }
  return hours;
}

/**
 * What is wrong now, judged from the database: the newest dump of a kind much smaller
 * than the recent ones (a broken scraper, a changed page), no new list day for
 * PAPERMAIL_STALE_HOURS weekday hours, `fetch` failing run after run, the latest digest
 * mostly failed. An installation running on the bundled samples has no input to watch.
 */
export function findProblems(db: Db, config: Pick<Config, "staleHours" | "demo">, now: Date): Problem[] {
  const problems: Problem[] = [];
  const dumps = recentIngestedDumps(db, 200);
  for (const kind of ["page text", "JSON"] as const) {
    const ofKind = dumps.filter((d) => dumpKind(d.path) === kind);
    const [newest, ...before] = ofKind;
    const earlier = before.slice(0, RECENT_DUMPS).map((d) => d.papers).filter((n) => n > 0);
    if (!newest || earlier.length < 3) continue;
    const typical = median(earlier);
    if (typical >= 10 && newest.papers < typical * SHRUNK) {
      problems.push({
        kind: "shrunken-dump",
        message: `the newest ${kind} dump (${newest.path}) gave ${newest.papers} paper${newest.papers === 1 ? "" : "s"}, against a median of ${typical} for the ${earlier.length} before it: the scraper may be broken, or Hugging Face changed its page`,
      });
      break;
    }
  }
  const newestDay = config.demo ? undefined : newestListDay(db, { includeDemo: false });
  if (newestDay) {
    // A list day is over at midnight UTC after it: count from then.
    const over = new Date(Date.parse(`${newestDay}T00:00:00Z`) + 86400_000);
    const hours = weekdayHoursBetween(over, now);
    if (hours > config.staleHours) {
      problems.push({
        kind: "stale-input",
        message: `no new list day since ${shortDay(newestDay)} (${Math.floor(hours)} weekday hours, PAPERMAIL_STALE_HOURS=${config.staleHours}): no dump or fetch brought newer papers`,
      });
    }
  }
  const failures = fetchFailuresInARow(db);
  if (failures >= FETCH_FAILURES) problems.push({ kind: "fetch-failing", message: `the last ${failures} fetch runs all failed (see the log or run \`papermail fetch\`)` });
  const digest = latestDigest(db);
  if (digest && digest.recipientCount >= 5) {
    const c = countDeliveries(db, digest.id);
    const tried = c.sent + c.failed + c.unknown;
    if (tried >= 5 && c.failed + c.unknown > tried / 2) {
      problems.push({
        kind: "digest-failing",
        message: `digest #${digest.id}: ${c.failed + c.unknown} of ${tried} messages failed or are unknown (refused by the relay? see \`papermail status\` for refusals by domain)`,
      });
    }
  }
  const complaints = complaintRate(db, now);
  if (complaints.delivered >= COMPLAINT_MIN_DELIVERED && complaints.rate >= COMPLAINT_WARNING) {
    const critical = complaints.rate >= COMPLAINT_CRITICAL;
    problems.push({
      kind: critical ? "complaints-critical" : "complaints-warning",
      message: `${complaints.complaints} complaints over ${complaints.delivered} messages delivered in ${COMPLAINT_WINDOW_DAYS} days: ${(complaints.rate * 100).toFixed(2)}%, ${
        critical ? "at or over 0.3%, the line past which Gmail and Yahoo filter or refuse bulk mail" : "over 0.1%, Gmail's guidance for bulk senders"
      } (readers who complained are suppressed already; check that readers asked for this mail and that unsubscribing is easy)`,
    });
  }
  return problems;
}
