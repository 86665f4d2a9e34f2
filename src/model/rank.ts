/**
 * The one order of papers: the freeze, each group's selection, the email, the web
 * pages, the feeds and `--dry-run` all rank by it, so tied papers never change places
 * between them. A known count before an unknown one, most upvoted first, then the
 * newer list day, then the slug (stable: it is derived from the paper's identity).
 */
export interface Rankable {
  upvotes: number;
  /** Null when no capture showed a count. */
  upvotesAt: string | null;
  listDay: string;
  slug: string;
}

/** The order as SQL, for a query where the papers table is `alias` (the same order as comparePapers). */
export function rankOrder(alias = "papers"): string {
  const a = alias;
  return `${a}.upvotes_at IS NULL, ${a}.upvotes DESC, ${a}.list_day DESC, ${a}.slug`;
}

/** The order as a comparator (the same order as rankOrder; slugs are ASCII, so code units compare as SQLite's bytes do). */
export function comparePapers(a: Rankable, b: Rankable): number {
  const unknown = Number(a.upvotesAt === null) - Number(b.upvotesAt === null);
  if (unknown !== 0) return unknown;
  if (a.upvotes !== b.upvotes) return b.upvotes - a.upvotes;
  if (a.listDay !== b.listDay) return a.listDay < b.listDay ? 1 : -1;
  return a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0;
}

/** A paper's place on Hugging Face's list of its day when a digest was made: "#2 of 48 on Dec 15". */
export interface DayRank {
  rank: number;
  of: number;
  /** The list day (ISO date). */
  day: string;
}
