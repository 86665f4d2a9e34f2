import type { Config } from "../config/load.js";
import type { Db } from "../store/db.js";
import { activeDigestIds, insertDigest, latestDailyDigestId, setRecipientCount, weeklyStartsAfter, type Edition } from "../store/digests.js";
import { advanceReaders, insertGroup, insertReaderRows, readerSets, type ReaderSet, type SetAssignment } from "../store/digest-groups.js";
import { papersOfDigestsBetween, daysOfDigestsBetween } from "../store/digest-papers.js";
import type { StoredPaper } from "../model/paper.js";
import { expireBefore, markSent, retirePapers, setCoveredThrough, type ListDays } from "../store/list-days.js";
import { expiryNote, planDaily, type DailyPlan, type DailyRules } from "./daily-plan.js";
import { describeSelection, fromStored, type ReaderChoices } from "../model/choices.js";
import { topicMatcher } from "../model/topics.js";

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
      if (options.edition === "daily") {
        const made = freezeDaily(db, options);
        if (made === undefined) return undefined;
        digestId = through = made;
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
      const groups = planGroups(readerSets(db, options.edition), through, (after) => papersOfDigestsBetween(db, after, through));
      const assignments: SetAssignment[] = [];
      groups.forEach((g, i) => {
        const groupNo = i + 1;
        insertGroup(db, digestId, { groupNo, choices: g.key, coversAfter: g.coversAfter, coversThrough: through, paperIds: g.paperIds, recipients: g.recipients });
        for (const set of g.sets) assignments.push({ set, groupNo, skipReason: g.skipReason });
      });
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
function freezeDaily(db: Db, options: FreezeOptions): number | undefined {
  const rules = dailyRules(options);
  const plan = planDaily(db, rules, new Date(options.at), { countExpiring: false });
  const days = plan.covers;
  if (!days || !plan.window) {
    options.explain?.(plan.nothing ?? "no new list day");
    return undefined;
  }
  let digestId: number | null = null;
  if (plan.papers.length > 0) {
    digestId = insertDigest(db, { edition: "daily", at: options.at, subject: options.subject(plan.papers, days), paperCount: plan.papers.length, papers: plan.papers, days });
    markSent(db, plan.papers.map((p) => p.id), digestId, options.at);
  }
  retirePapers(db, "passed-over", plan.passedOver, digestId, options.at);
  expireBefore(db, plan.window.from, expiryNote(plan, rules, digestId), digestId, options.at, rules);
  setCoveredThrough(db, plan.window.through);
  if (digestId === null) options.explain?.(plan.nothing ?? "no paper to send");
  return digestId ?? undefined;
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

/** Readers who share one rendering: the same choices and the same papers owed. */
export interface PlannedGroup {
  /** The choices, as stored with the group (JSON, topics sorted). */
  key: string;
  choices: ReaderChoices;
  coversAfter: number;
  /** The papers they get, most upvoted first. */
  paperIds: number[];
  /** The stored combinations of choices and cursor that make up the group, and how many readers that is. */
  sets: ReaderSet[];
  recipients: number;
  /** Set when the edition holds nothing for them: their ledger rows say this. */
  skipReason?: string;
}

/**
 * Groups an edition's readers and picks each group's papers: the daily digests after
 * the readers' cursor up to `through`, the papers matching their topics with at least
 * their minimum of upvotes. Papers of a range are read once, whatever the groups.
 */
export function planGroups(readers: readonly ReaderSet[], through: number, papersAfter: (after: number) => StoredPaper[]): PlannedGroup[] {
  const groups = new Map<string, PlannedGroup>();
  const ranges = new Map<number, StoredPaper[]>();
  for (const reader of readers) {
    const stored = fromStored(reader);
    // Topics in any order are the same choice.
    const choices: ReaderChoices = { ...stored, topics: [...stored.topics].sort() };
    const key = JSON.stringify(choices);
    // A reader whose cursor is at or past `through` has been offered all of it already.
    const after = Math.min(reader.coveredThrough, through);
    const id = `${after}\n${key}`;
    let group = groups.get(id);
    if (!group) {
      group = { key, choices, coversAfter: after, paperIds: [], sets: [], recipients: 0 };
      if (after >= through) group.skipReason = "every paper of this edition was already offered in an earlier digest";
      else {
        let papers = ranges.get(after);
        if (!papers) ranges.set(after, (papers = papersAfter(after)));
        const matches = topicMatcher(choices.topics);
        const wanted = papers.filter((p) => p.upvotes >= choices.minUpvotes && (choices.topics.length === 0 || matches(p).length > 0));
        group.paperIds = wanted.map((p) => p.id);
        if (wanted.length === 0) group.skipReason = `no paper of this edition matched their choices (${describeSelection(choices)})`;
      }
      groups.set(id, group);
    }
    group.sets.push(reader);
    group.recipients += reader.readers;
  }
  return [...groups.values()];
}
