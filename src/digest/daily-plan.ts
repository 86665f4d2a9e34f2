import type { Db } from "../store/db.js";
import { papersByIds } from "../store/digest-papers.js";
import { countWaitingBefore, coveredThrough, listDaysThrough, newestListDay, waitingPapers, withdrawnPapers, type DayScope, type ListDays, type RankedPaper } from "../store/list-days.js";
import type { StoredPaper } from "../model/paper.js";
import { dayRange, shortDay } from "../util/time.js";

/** The editor's rules of a daily digest (PAPERMAIL_MAX_PAPERS, _MIN_UPVOTES, _CATCH_UP_DAYS, _INCLUDE_TODAY). */
export interface DailyRules extends DayScope {
  maxPapers: number;
  minUpvotes: number;
  /** How many of the newest list days a digest reaches back over; older waiting papers expire. */
  catchUpDays: number;
  /** Send the list day in progress too (it is otherwise complete at midnight UTC, or once a newer day exists). */
  includeToday: boolean;
}

/** What the next daily digest would be, decided from the stored papers and the rules, changing nothing. */
export interface DailyPlan {
  /** The newest list day stored, and the newest daily digests have covered. */
  newestDay: string | null;
  coveredThrough: string | null;
  /** The newly completed list days the digest covers, oldest first (empty: no new day, no digest). */
  days: string[];
  /** The list days whose waiting papers are considered: the covered ones and late arrivals of recent ones. */
  window: ListDays | null;
  /** The span a digest would name: the first new day through the newest complete one (null: no new day). */
  covers: ListDays | null;
  /** The digest's global list, in order: its first `maxPapers` candidates. */
  papers: StoredPaper[];
  /** Every paper of the window that passed the rules, in the one order: readers with topics get the best of these that match them. */
  candidates: number[];
  /** Candidates after the global list, each with why it is not on it: only readers whose topics match it get it. */
  overflow: Array<{ id: number; note: string }>;
  /** Papers of the window that no reader gets (under the minimum, withdrawn), each with why. */
  passedOver: Array<{ id: number; note: string }>;
  /** Waiting papers listed before the window: they expire when the digest is frozen (counted for previews only). */
  expiring: number;
  /** The sentence that says why nothing would be sent, when nothing would. */
  nothing?: string;
}

/**
 * Plans the next daily digest. It covers the list days completed since the previous
 * daily digest (at most the newest `catchUpDays` of them); its papers are the waiting
 * papers of those days and of the recent days already covered (late arrivals), most
 * upvoted first, up to `maxPapers`. The rest of them are passed over, older waiting
 * papers expire: nothing is carried into later digests as news.
 */
export function planDaily(db: Db, rules: DailyRules, now: Date, options: { countExpiring: boolean } = { countExpiring: true }): DailyPlan {
  const newest = newestListDay(db, rules) ?? null;
  const covered = coveredThrough(db) ?? null;
  const plan: DailyPlan = { newestDay: newest, coveredThrough: covered, days: [], window: null, covers: null, papers: [], candidates: [], overflow: [], passedOver: [], expiring: 0 };
  if (newest === null) return { ...plan, nothing: "no papers to send yet: run `papermail ingest` or `papermail fetch`" };
  const today = now.toISOString().slice(0, 10);
  const inProgress = !rules.includeToday && newest >= today;
  // A day is complete once it is over in UTC (Hugging Face's calendar) or a newer list day exists.
  const complete = inProgress ? newestListDay(db, rules, newest) : newest;
  const since = covered ? `nothing new since the digest of ${shortDay(covered)}` : "no list day has completed yet";
  const waiting = inProgress ? `; ${shortDay(newest)} is still in progress (it completes at midnight UTC, or set PAPERMAIL_INCLUDE_TODAY=true to send it now)` : "";
  if (complete === undefined || (covered !== null && complete <= covered)) return { ...plan, nothing: since + waiting };

  const window = listDaysThrough(db, complete, Number.isFinite(rules.catchUpDays) ? rules.catchUpDays : -1, rules);
  const from = window[window.length - 1]!;
  plan.window = { from, through: complete };
  plan.days = window.filter((d) => covered === null || d > covered).reverse();
  plan.covers = { from: plan.days[0]!, through: complete };
  const range = dayRange(plan.covers.from, plan.covers.through);
  const candidates = waitingPapers(db, from, complete, rules);
  const floor = rules.minUpvotes;
  const below = (p: RankedPaper) => floor > 0 && (p.upvotesAt === null || p.upvotes < floor);
  const kept = candidates.filter((p) => !below(p));
  plan.papers = papersByIds(db, kept.slice(0, rules.maxPapers).map((p) => p.id));
  plan.candidates = kept.map((p) => p.id);
  plan.overflow = kept.slice(rules.maxPapers).map((p, i) => ({
    id: p.id,
    note: `ranked ${rules.maxPapers + i + 1} of ${kept.length} for ${range} with ${p.upvotesAt === null ? "no upvote count" : upvoteWords(p)}, over PAPERMAIL_MAX_PAPERS=${rules.maxPapers}; no reader's topics matched it`,
  }));
  plan.passedOver = [
    ...candidates.filter(below).map((p) => ({ id: p.id, note: `${upvoteWords(p)}, below PAPERMAIL_MIN_UPVOTES=${floor}` })),
    ...withdrawnPapers(db, from, complete, rules).map((id) => ({ id, note: "withdrawn on Hugging Face" })),
  ];
  // A freeze expires a backlog with one mark, whatever its size: only a preview counts it.
  if (options.countExpiring) plan.expiring = countWaitingBefore(db, from, rules);
  if (plan.papers.length === 0) {
    plan.nothing =
      candidates.length === 0
        ? `no paper of ${range} is waiting (every one was sent, passed over or expired)`
        : `no paper of ${range} has PAPERMAIL_MIN_UPVOTES=${floor} upvotes (${candidates.length} below it are passed over)`;
  }
  return plan;
}

/** "7 upvotes", "1 upvote" or "upvotes unknown", as a digest counted them. */
function upvoteWords(p: RankedPaper): string {
  return p.upvotesAt === null ? "upvotes unknown" : `${p.upvotes} upvote${p.upvotes === 1 ? "" : "s"}`;
}

/** Why the papers listed before the window expire, in one sentence for all of them. */
export function expiryNote(plan: DailyPlan, rules: DailyRules, digestId: number | null): string {
  const reach = Number.isFinite(rules.catchUpDays) ? `the ${rules.catchUpDays} newest list day${rules.catchUpDays === 1 ? "" : "s"}` : "the newest list days";
  const window = plan.window ? ` (${dayRange(plan.window.from, plan.window.through)})` : "";
  return `listed before ${reach}${window} when ${digestId === null ? "a digest came due" : `digest #${digestId} was made`} (PAPERMAIL_CATCH_UP_DAYS)`;
}
