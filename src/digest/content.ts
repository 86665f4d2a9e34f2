import { PapermailError } from "../errors.js";
import type { ReaderChoices } from "../model/choices.js";
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
  return { id: digest.id, edition: digest.edition, subject: digest.subject, papers: digestPapers(db, digestId), days: digestDays(digest), createdAt: digest.createdAt };
}

/**
 * One group of a frozen digest: its readers' choices and papers. `seen` lets the groups
 * of one send share each paper's object (what is worked out from a paper, such as the
 * topic matcher's index of its words, is then worked out once, not once per group).
 */
export function groupContent(db: Db, digestId: number, groupNo: number, seen?: Map<number, StoredPaper>): DigestGroupContent {
  const group = findGroup(db, digestId, groupNo);
  if (!group) throw new PapermailError("NOT_FOUND", `digest ${digestId} has no group ${groupNo}`);
  return { choices: JSON.parse(group.choices) as ReaderChoices, papers: papersOf(db, group.paperIds, seen) };
}

function papersOf(db: Db, ids: readonly number[], seen: Map<number, StoredPaper> | undefined): StoredPaper[] {
  if (!seen) return papersByIds(db, ids);
  const missing = ids.filter((id) => !seen.has(id));
  if (missing.length > 0) for (const p of papersByIds(db, missing)) seen.set(p.id, p);
  return ids.map((id) => seen.get(id)!).filter(Boolean);
}
