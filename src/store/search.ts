import { cachedStatement, type Db } from "./db.js";
import { searchDbOf } from "./search-db.js";
import { fromRow, paperColumns } from "./papers.js";
import { type StoredPaper } from "../model/paper.js";
import { foldWord, markedPassage, markWords } from "../util/mark-words.js";

/**
 * Marks around the matching words in a found paper's title and snippet. Private-use
 * characters, stripped from every dump text, so a paper can never produce one:
 * each page escapes the text first, then turns them into its own markup.
 */
export const MATCH_START = "\uE010";
export const MATCH_END = "\uE011";

/** A paper a search found, with its title and the best passage of its text marked. */
export interface FoundPaper extends StoredPaper {
  markedTitle: string;
  /** The passage of the abstract around the matching words (its start when only other fields matched). */
  markedSnippet: string;
}

/** One page of search results. */
export interface SearchResult {
  /** The words searched for, as the search read them (empty: nothing to search). */
  words: string[];
  /** "all": papers with every word; "any": none had all, these have some. */
  match: "all" | "any";
  /** How many papers match, counted up to SEARCH_COUNT_CAP (`more`: there are more than that). */
  total: number;
  more: boolean;
  papers: FoundPaper[];
}

/** Longest query read, in characters and in words: a search box is no place for an essay. */
const MAX_QUERY_CHARS = 300;
const MAX_WORDS = 12;

/** Words nearly every abstract has: they find everything and rank nothing, so a query drops them (unless it has no other). */
const STOP_WORDS = new Set(
  "a an and are as at be by for from has have in into is it its of on or our that the their this to we with via using based".split(" "),
);

/**
 * The words of a query: runs of letters and digits, lower-cased, common English words
 * left out, at most 12. Anything else (quotes, operators, brackets, SQL) separates
 * words: a query is data, never syntax.
 */
export function searchWords(query: string): string[] {
  const words = [...new Set(query.slice(0, MAX_QUERY_CHARS).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
  const telling = words.filter((w) => !STOP_WORDS.has(w));
  return (telling.length > 0 ? telling : words).slice(0, MAX_WORDS);
}

/** The FTS5 expression of the words: each one a quoted string (never an operator), joined by AND or OR. */
function matchExpression(words: readonly string[], join: "AND" | "OR"): string {
  return words.map((w) => `"${w.replaceAll('"', '""')}"`).join(` ${join} `);
}

/**
 * Column weights for ranking (title, abstract, authors, organisation name and
 * handle, keywords, summary): a word in the title says more than one in the abstract.
 */
const RANK = "bm25(papers_search, 10.0, 1.0, 4.0, 4.0, 4.0, 5.0, 2.0)";

/**
 * Matches are ranked by relevance in windows of this many, newest window first: a word
 * that half the archive has still answers in milliseconds, and of equally relevant
 * papers the recent ones come first. Most queries match fewer: one window, pure relevance.
 */
export const RANK_WINDOW = 1000;

/** Matches are counted up to this many; past it a page says "1,000+" (counting them all is the slow part of a common word). */
export const SEARCH_COUNT_CAP = RANK_WINDOW;

/**
 * Searches every stored paper: papers with all the words (or, when none has them
 * all, those with any), the most relevant first within each window of matches, newest
 * window first; the page's papers come with their matching words marked.
 */
export function searchPapers(db: Db, query: string, page: { limit: number; offset: number }): SearchResult {
  const words = searchWords(query);
  if (words.length === 0) return { words, match: "all", total: 0, more: false, papers: [] };
  // The index lives in its own database (search-db.ts): ids there, papers here.
  const index = searchDbOf(db);
  const count = cachedStatement<[string, number], { n: number }>(
    index,
    "SELECT count(*) AS n FROM (SELECT 1 FROM papers_search WHERE papers_search MATCH ? LIMIT ?)",
  );
  let match: SearchResult["match"] = "all";
  let expression = matchExpression(words, "AND");
  let found = count.get(expression, SEARCH_COUNT_CAP + 1)!.n;
  if (found === 0 && words.length > 1) {
    match = "any";
    expression = matchExpression(words, "OR");
    found = count.get(expression, SEARCH_COUNT_CAP + 1)!.n;
  }
  const more = found > SEARCH_COUNT_CAP;
  const total = Math.min(found, SEARCH_COUNT_CAP);
  const ids = found === 0 ? [] : rankedIds(index, expression, Math.max(0, page.offset), Math.max(0, page.limit), more);
  // Marked here rather than by FTS5's highlight() and snippet(): those run the query again for each paper.
  const folded = new Set(words.map(foldWord));
  const row = cachedStatement<[number], StoredPaper & { links: string; authors: string; keywords: string }>(db, `SELECT ${paperColumns()} FROM papers WHERE id = ?`);
  const papers = ids.flatMap((id) => {
    const r = row.get(id);
    if (!r) return [];
    const paper = fromRow(r);
    return [{ ...paper, markedTitle: markWords(paper.title, folded, MATCH_START, MATCH_END), markedSnippet: markedPassage(paper.abstract ?? "", folded, MATCH_START, MATCH_END) }];
  });
  return { words, match, total, more, papers };
}

/** The ids of one page of matches: ranked within windows of RANK_WINDOW matches, newest window first. */
function rankedIds(index: Db, expression: string, offset: number, limit: number, windowed: boolean): number[] {
  // The id of the n-th newest match (0-based): where a window starts or ends.
  const nth = cachedStatement<[string, number], { id: number }>(index, "SELECT rowid AS id FROM papers_search WHERE papers_search MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?");
  const ranked = cachedStatement<[string, number, number, number, number], { id: number }>(
    index,
    `SELECT rowid AS id FROM papers_search WHERE papers_search MATCH ? AND rowid BETWEEN ? AND ?
     ORDER BY ${RANK}, rowid DESC LIMIT ? OFFSET ?`,
  );
  // Fewer matches than a window: one ranking of them all.
  if (!windowed) return ranked.all(expression, 0, Number.MAX_SAFE_INTEGER, limit, offset).map((r) => r.id);
  const ids: number[] = [];
  while (ids.length < limit) {
    const at = offset + ids.length;
    const window = Math.floor(at / RANK_WINDOW);
    const newest = nth.get(expression, window * RANK_WINDOW)?.id;
    if (newest === undefined) break;
    const oldest = nth.get(expression, (window + 1) * RANK_WINDOW - 1)?.id ?? 0;
    const found = ranked.all(expression, oldest, newest, limit - ids.length, at - window * RANK_WINDOW).map((r) => r.id);
    if (found.length === 0) break;
    ids.push(...found);
  }
  return ids;
}
