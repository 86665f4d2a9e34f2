import type { ReaderSet } from "../store/digest-groups.js";
import type { Candidate } from "../store/digest-candidates.js";
import { describeSelection, fromStored, type ReaderChoices } from "../model/choices.js";
import { selectPapers } from "./selection.js";

/** Readers who share one rendering: the same choices and the same papers owed. */
export interface PlannedGroup {
  /** The choices, as stored with the group (JSON, topics sorted). */
  key: string;
  choices: ReaderChoices;
  coversAfter: number;
  /** The papers they get, in the one order. */
  paperIds: number[];
  /** The day's top papers outside their topics ("Also trending"). */
  alsoIds: number[];
  /** The stored combinations of choices and cursor that make up the group, and how many readers that is. */
  sets: ReaderSet[];
  recipients: number;
  /** Set when the edition holds nothing for them: their ledger rows say this. */
  skipReason?: string;
}

/** The candidates of a range of daily digests, and how many papers a group may take from each. */
export interface OfferedRange {
  candidates: Candidate[];
  limits: Map<number, number>;
}

/**
 * Groups an edition's readers and picks each group's papers (selectPapers): from the
 * daily digests after the readers' cursor up to `through`, the best that match their
 * topics with at least their minimum of upvotes. A range is read once, whatever the groups.
 */
export function planGroups(readers: readonly ReaderSet[], through: number, offeredAfter: (after: number) => OfferedRange): PlannedGroup[] {
  const groups = new Map<string, PlannedGroup>();
  const ranges = new Map<number, OfferedRange>();
  for (const reader of readers) {
    const stored = fromStored(reader);
    // Topics in any order are the same choice; "Also trending" means nothing without topics.
    const topics = [...stored.topics].sort();
    const choices: ReaderChoices = { ...stored, topics, alsoTrending: topics.length > 0 ? stored.alsoTrending : 0 };
    const key = JSON.stringify(choices);
    // A reader whose cursor is at or past `through` has been offered all of it already.
    const after = Math.min(reader.coveredThrough, through);
    const id = `${after}\n${key}`;
    let group = groups.get(id);
    if (!group) {
      group = { key, choices, coversAfter: after, paperIds: [], alsoIds: [], sets: [], recipients: 0 };
      if (after >= through) group.skipReason = "every paper of this edition was already offered in an earlier digest";
      else {
        let range = ranges.get(after);
        if (!range) ranges.set(after, (range = offeredAfter(after)));
        const { limits } = range;
        const selection = selectPapers(range.candidates, choices, (id) => limits.get(id) ?? 0);
        group.paperIds = selection.papers.map((p) => p.id);
        group.alsoIds = selection.also.map((p) => p.id);
        if (selection.papers.length === 0) group.skipReason = `no paper of this edition matched their choices (${describeSelection(choices)})`;
      }
      groups.set(id, group);
    }
    group.sets.push(reader);
    group.recipients += reader.readers;
  }
  return [...groups.values()];
}
