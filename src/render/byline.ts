import type { StoredPaper } from "../store/papers.js";

/** Authors or organisation as a reader sees it: "Kyutai", "8 authors", or null. */
export function byline(p: Pick<StoredPaper, "authorsCount" | "orgName" | "orgHandle">): string | null {
  if (p.orgName) return p.orgName;
  if (p.authorsCount !== null) return `${p.authorsCount} ${p.authorsCount === 1 ? "author" : "authors"}`;
  return null;
}
