import { PapermailError } from "../errors.js";
import { DEFAULT_CHOICES, type ReaderChoices } from "../model/choices.js";
import { candidatesBetween, dayRanks, digestLimits, type DayRank } from "../store/digest-candidates.js";
import { selectPapers, type SelectionChoices } from "./selection.js";
import type { StoredPaper } from "../model/paper.js";
import type { DigestContent, DigestGroupContent } from "../render/digest-message.js";
import type { Db } from "../store/db.js";
import { digestDays, findDigest } from "../store/digests.js";
import { findGroup } from "../store/digest-groups.js";
import { digestPapers, papersByIds } from "../store/digest-papers.js";

/** A frozen digest as renderDigestMessage takes it. */
export function digestContent(db: Db, digestId: number): DigestContent {
  const digest = findDigest(db, digestId);
  if (!digest) throw new PapermailError("NOT_FOUND", `digest ${digestId} does not exist`);
  const papers = digestPapers(db, digestId);
  return { id: digest.id, edition: digest.edition, subject: digest.subject, papers, days: digestDays(digest), createdAt: digest.createdAt, ranks: dayRanks(db, papers.map((p) => p.id)) };
}

/** What the groups of one send share: each paper's object and place, read once whatever the groups. */
export interface SharedContent {
  papers: Map<number, StoredPaper>;
  ranks: Map<number, DayRank>;
}

/**
 * One group of a frozen digest: its readers' choices and papers. `shared` lets the groups
 * of one send share each paper's object (what is worked out from a paper, such as the
 * topic matcher's index of its words or its view, is then worked out once, not once per group).
 */
export function groupContent(db: Db, digestId: number, groupNo: number, shared?: SharedContent): DigestGroupContent {
  const group = findGroup(db, digestId, groupNo);
  if (!group) throw new PapermailError("NOT_FOUND", `digest ${digestId} has no group ${groupNo}`);
  const choices = { ...DEFAULT_CHOICES, ...(JSON.parse(group.choices) as Partial<ReaderChoices>) };
  const s = shared ?? { papers: new Map(), ranks: new Map() };
  const ids = [...group.paperIds, ...group.alsoIds];
  const missing = ids.filter((id) => !s.papers.has(id));
  if (missing.length > 0) {
    for (const p of papersByIds(db, missing)) s.papers.set(p.id, p);
    for (const [id, rank] of dayRanks(db, missing)) s.ranks.set(id, rank);
  }
  const papersOf = (list: readonly number[]) => list.map((id) => s.papers.get(id)!).filter(Boolean);
  return { choices, papers: papersOf(group.paperIds), also: papersOf(group.alsoIds), ranks: s.ranks };
}

/**
 * A digest as a reader with these choices got it, worked out from what its daily
 * digests offered, as the freeze chose each group's papers: the digest page and the
 * feeds filtered by a reader's topics show this.
 */
export function chosenContent(db: Db, digestId: number, choices: SelectionChoices): DigestGroupContent | undefined {
  const digest = findDigest(db, digestId);
  if (!digest) return undefined;
  const [after, through] = digest.edition === "weekly" ? [digest.coversAfter ?? 0, digest.coversThrough ?? 0] : [digestId - 1, digestId];
  const limits = digestLimits(db, after, through);
  const { papers, also } = selectPapers(candidatesBetween(db, after, through), choices, (id) => limits.get(id) ?? 0);
  return { choices: { ...DEFAULT_CHOICES, ...choices, cadence: digest.edition }, papers, also, ranks: dayRanks(db, [...papers, ...also].map((p) => p.id)) };
}
