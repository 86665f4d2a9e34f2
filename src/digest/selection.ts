import type { ReaderChoices } from "../model/choices.js";
import type { StoredPaper } from "../model/paper.js";
import { comparePapers } from "../model/rank.js";
import { topicMatcher } from "../model/topics.js";
import type { Candidate } from "../store/digest-candidates.js";

/** The papers a group of readers gets from some daily digests, and the day's top ones outside their topics. */
export interface Selection {
  papers: StoredPaper[];
  /** "Also trending": the best of the digests' global lists that the papers left out (readers with topics only). */
  also: StoredPaper[];
}

/** The choices a selection depends on. */
export type SelectionChoices = Pick<ReaderChoices, "topics" | "minUpvotes" | "alsoTrending">;

/**
 * Chooses a group's papers: from each daily digest, the best of its candidates that
 * match the choices (any of the topics, at least the minimum of upvotes), up to that
 * digest's limit; then all of them in the one order. A reader without topics gets each
 * digest's global list (less what is under their minimum). A reader with topics also
 * gets the best few of the global lists that their topics left out.
 *
 * `candidates` come digest by digest, each in its frozen order (candidatesBetween).
 */
export function selectPapers(candidates: readonly Candidate[], choices: SelectionChoices, limitOf: (digestId: number) => number): Selection {
  const matches = choices.topics.length > 0 ? topicMatcher(choices.topics) : undefined;
  const taken = new Map<number, number>();
  const chosen: Candidate[] = [];
  for (const c of candidates) {
    const limit = limitOf(c.digestId);
    const had = taken.get(c.digestId) ?? 0;
    if (had >= limit) continue;
    if (c.paper.upvotes < choices.minUpvotes) continue;
    if (matches ? matches(c.paper).length === 0 : !c.listed) continue;
    taken.set(c.digestId, had + 1);
    chosen.push(c);
  }
  const papers = inOrder(chosen);
  const also: StoredPaper[] = [];
  if (matches && choices.alsoTrending > 0 && papers.length > 0) {
    const inside = new Set(papers.map((p) => p.id));
    const listed = candidates.filter((c) => c.listed && !inside.has(c.paper.id) && c.paper.upvotes >= choices.minUpvotes);
    also.push(...inOrder(listed).slice(0, choices.alsoTrending));
  }
  return { papers, also };
}

/** One digest's candidates keep their frozen order; several are merged in the one order. */
function inOrder(list: readonly Candidate[]): StoredPaper[] {
  const single = list.every((c) => c.digestId === list[0]!.digestId);
  return (single ? [...list].sort((a, b) => a.position - b.position) : [...list].sort((a, b) => comparePapers(a.paper, b.paper))).map((c) => c.paper);
}
