import type { StoredPaper } from "../model/paper.js";

type BylineFields = Pick<StoredPaper, "authorsCount" | "orgName" | "orgHandle"> & Partial<Pick<StoredPaper, "authors" | "numComments">>;

/**
 * Authors and organisation as a reader sees them: "Ada Lovelace, Alan Turing, Grace
 * Hopper et al. · Kyutai · 12 comments", "8 authors", or null when nothing is known.
 */
export function byline(p: BylineFields): string | null {
  const names = p.authors && p.authors.length > 0 ? `${p.authors.slice(0, 3).join(", ")}${p.authors.length > 3 ? " et al." : ""}` : null;
  const count = p.authorsCount !== null ? `${p.authorsCount} ${p.authorsCount === 1 ? "author" : "authors"}` : null;
  const comments = p.numComments ? `${p.numComments} ${p.numComments === 1 ? "comment" : "comments"}` : null;
  // Page text gives an organisation or an author count, never both; JSON may give names and an organisation.
  const who = names ?? (p.orgName ? null : count);
  return [who, p.orgName, comments].filter(Boolean).join(" · ") || null;
}
