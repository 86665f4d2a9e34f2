import type { Config } from "../config/load.js";
import type { Db } from "../store/db.js";
import { activeDigestIds, insertDigest, latestDailyDigestId, setRecipientCount, weeklyStartsAfter, type Edition } from "../store/digests.js";
import { advanceReaders, insertGroup, insertReaderRows, readerSets, type SetAssignment } from "../store/digest-groups.js";
import { papersOfDigestsBetween, daysOfDigestsBetween } from "../store/digest-papers.js";
import type { StoredPaper } from "../model/paper.js";
import { expireBefore, markSent, retirePapers, setCoveredThrough, type ListDays } from "../store/list-days.js";
import { expiryNote, planDaily, type DailyPlan, type DailyRules } from "./daily-plan.js";
import { candidatesBetween, digestLimits, insertCandidates, placesOnDays } from "../store/digest-candidates.js";
import { planGroups, type PlannedGroup } from "./groups.js";

export type { Edition };

export interface FreezeOptions {
  edition: Edition;
  /** Papers a daily digest takes at most; the rest of its days are passed over. */
  maxPapers: number;
  /** Papers with fewer upvotes (or an unknown count) are passed over; 0 keeps all. */
  minUpvotes?: number;
  /** How many of the newest list days a daily digest reaches back over (default 3). */
  catchUpDays?: number;
  /** The list day in progress counts as complete. */
  includeToday?: boolean;
  at: string;
  /** The digest's subject (the archive's), from its papers and the list days it covers. */
  subject: (papers: readonly StoredPaper[], days: ListDays | null) => string;
  /** Demo papers (bundled samples) only while papermail runs unconfigured. */
  includeDemo?: boolean;
  /** Told why no daily digest was made, when none was. */
  explain?: (sentence: string) => void;
}

/**
 * The editor's settings of a configuration. The demo treats the bundled samples as one
 * catch-up: every sample day is complete and covered, so its first digest is the best
 * of them all and the next run has nothing new.
 */
export function editionSettings(config: Config): Pick<FreezeOptions, "maxPapers" | "minUpvotes" | "catchUpDays" | "includeToday" | "includeDemo"> {
  return {
    maxPapers: config.maxPapers,
    minUpvotes: config.minUpvotes,
    catchUpDays: config.demo ? Infinity : config.catchUpDays,
    includeToday: config.demo || config.includeToday,
    includeDemo: config.demo,
  };
}

/** The daily rules of a freeze's options. */
export function dailyRules(options: Pick<FreezeOptions, "maxPapers" | "minUpvotes" | "catchUpDays" | "includeToday" | "includeDemo">): DailyRules {
  return {
    maxPapers: options.maxPapers,
    minUpvotes: options.minUpvotes ?? 0,
    catchUpDays: options.catchUpDays ?? 3,
    includeToday: options.includeToday ?? false,
    includeDemo: options.includeDemo ?? false,
  };
}

/** How far back the first weekly edition reaches. */
const WEEK_MS = 7 * 86400_000;

/**
 * Freezes the next edition in one IMMEDIATE transaction, or returns undefined when
 * there is nothing new or an edition of the same kind is being sent right now.
 *
 * A daily edition takes the unsent papers (each in one daily digest, ever). A weekly
 * edition gathers the daily digests since the previous weekly one. Each reader of the
 * edition's cadence is owed the daily digests after their cursor (covered_through)
 * up to the edition's newest, filtered by their choices: readers who switch cadence or
 * topics are offered each paper once and miss none. Readers with the same choices and
 * the same papers owed form a group, rendered once. The cursors move in the same
 * transaction as the ledger rows.
 */
export function freezeEdition(db: Db, options: FreezeOptions): number | undefined {
  return db
    .transaction(() => {
      if (activeDigestIds(db, options.at, options.edition).length > 0) return undefined;
      let digestId: number;
      let through: number;
      let overflow: DailyPlan["overflow"] = [];
      if (options.edition === "daily") {
        const made = freezeDaily(db, options);
        if (made === undefined) return undefined;
        digestId = through = made.digestId;
        overflow = made.overflow;
      } else {
        const week = weeklyRange(db, options.at);
        if (!week) return undefined;
        const { after } = week;
        through = week.through;
        const papers = papersOfDigestsBetween(db, after, through);
        const days = daysOfDigestsBetween(db, after, through);
        digestId = insertDigest(db, {
          edition: "weekly",
          at: options.at,
          subject: options.subject(papers, days),
          paperCount: papers.length,
          coversAfter: after,
          coversThrough: through,
          days,
        });
      }
      const groups = planGroups(readerSets(db, options.edition), through, (after) => ({ candidates: candidatesBetween(db, after, through), limits: digestLimits(db, after, through) }));
      const assignments: SetAssignment[] = [];
      groups.forEach((g, i) => {
        const groupNo = i + 1;
        insertGroup(db, digestId, { groupNo, choices: g.key, coversAfter: g.coversAfter, coversThrough: through, paperIds: g.paperIds, alsoIds: g.alsoIds, recipients: g.recipients });
        for (const set of g.sets) assignments.push({ set, groupNo, skipReason: g.skipReason });
      });
      settleOverflow(db, overflow, groups, digestId, options.at);
      const recipients = insertReaderRows(db, digestId, options.edition, assignments, options.at);
      advanceReaders(db, options.edition, through);
      setRecipientCount(db, digestId, recipients);
      return digestId;
    })
    .immediate();
}

/**
 * Plans, records and inserts the next daily digest: its papers are marked sent, the
 * rest of its days passed over, older waiting papers expired, and the covered list
 * days move forward, in the caller's transaction. When the days hold no paper to send,
 * the papers are retired all the same and no digest is made (explained to the caller).
 */
function freezeDaily(db: Db, options: FreezeOptions): { digestId: number; overflow: DailyPlan["overflow"] } | undefined {
  const rules = dailyRules(options);
  const plan = planDaily(db, rules, new Date(options.at), { countExpiring: false });
  const days = plan.covers;
  if (!days || !plan.window) {
    options.explain?.(plan.nothing ?? "no new list day");
    return undefined;
  }
  let digestId: number | null = null;
  if (plan.papers.length > 0) {
    digestId = insertDigest(db, {
      edition: "daily",
      at: options.at,
      subject: options.subject(plan.papers, days),
      paperCount: plan.papers.length,
      papers: plan.papers,
      days,
      maxPapers: rules.maxPapers,
    });
    // Places on the days' lists are worked out here, when they are recorded: a preview needs none.
    const places = placesOnDays(db, plan.window, rules.includeDemo);
    insertCandidates(db, digestId, plan.candidates.map((id) => ({ id, dayRank: places.get(id)?.rank ?? null, dayTotal: places.get(id)?.of ?? null })));
    markSent(db, plan.papers.map((p) => p.id), digestId, options.at);
  }
  retirePapers(db, "passed-over", plan.passedOver, digestId, options.at);
  expireBefore(db, plan.window.from, expiryNote(plan, rules, digestId), digestId, options.at, rules);
  setCoveredThrough(db, plan.window.through);
  if (digestId === null) options.explain?.(plan.nothing ?? "no paper to send");
  return digestId === null ? undefined : { digestId, overflow: plan.overflow };
}

/**
 * The fate of a daily digest's candidates beyond its global list, once its groups are
 * chosen: sent when some group got it, passed over (with why) when none did.
 */
function settleOverflow(db: Db, overflow: DailyPlan["overflow"], groups: readonly PlannedGroup[], digestId: number, at: string): void {
  if (overflow.length === 0) return;
  const chosen = new Set(groups.filter((g) => g.recipients > 0).flatMap((g) => g.paperIds));
  markSent(db, overflow.filter((p) => chosen.has(p.id)).map((p) => p.id), digestId, at);
  retirePapers(db, "passed-over", overflow.filter((p) => !chosen.has(p.id)), digestId, at);
}

/** What the next edition would be, without freezing anything. */
export interface EditionPreview {
  papers: StoredPaper[];
  days: ListDays | null;
  /** A daily edition's plan: covered days, passed over, expiring, or why nothing. */
  plan?: DailyPlan;
}

/**
 * The papers the next edition would hold, without freezing anything: the planned
 * daily digest, or the papers of the daily digests since the last weekly one.
 */
export function previewEdition(db: Db, options: Pick<FreezeOptions, "edition" | "maxPapers" | "minUpvotes" | "catchUpDays" | "includeToday" | "at" | "includeDemo">): EditionPreview {
  if (options.edition === "daily") {
    const plan = planDaily(db, dailyRules(options), new Date(options.at));
    return { papers: plan.papers, days: plan.covers, plan };
  }
  const week = weeklyRange(db, options.at);
  return week ? { papers: papersOfDigestsBetween(db, week.after, week.through), days: daysOfDigestsBetween(db, week.after, week.through) } : { papers: [], days: null };
}

/** The daily digests the next weekly edition gathers (after, through], or undefined when there is none since the last. */
function weeklyRange(db: Db, at: string): { after: number; through: number } | undefined {
  const through = latestDailyDigestId(db);
  const after = weeklyStartsAfter(db, new Date(Date.parse(at) - WEEK_MS).toISOString());
  return through > after ? { after, through } : undefined;
}
