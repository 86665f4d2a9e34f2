/**
 * The paper: what a dump gives of it (Paper), what is stored of it (StoredPaper), its
 * identity (key and slug) and its links. The domain every layer shares; it imports
 * nothing of papermail's.
 */
import { hash } from "node:crypto";

/** One paper as a dump shows it, validated and keyed. */
export interface Paper {
  /** 1-based line of the title in the dump. */
  line: number;
  key: string;
  slug: string;
  title: string;
  abstract: string | null;
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  /** ISO date, never after the page date. */
  publishedOn: string | null;
  /** Upvotes shown in the trailer (0 when a trailer shows none); null without a trailer. */
  upvotes: number | null;
  links: string[];
  codeUrl: string | null;
  /** The day Hugging Face listed it (submittedOnDailyAt); page text has the page date for all its papers. */
  listDay?: string | null;
  /** From the daily_papers JSON only (page text has none of these). */
  arxivId?: string | null;
  authors?: string[] | null;
  githubRepo?: string | null;
  projectPage?: string | null;
  numComments?: number | null;
  keywords?: string[] | null;
  thumbnail?: string | null;
  /** Hugging Face's one-line summary of the paper (ai_summary). */
  summary?: string | null;
  githubStars?: number | null;
  /** daily_papers' withdrawnAt: Hugging Face withdrew the paper. */
  withdrawnAt?: string | null;
}

/** A stored paper, as the digest, feed and CLI read it. */
export interface StoredPaper {
  id: number;
  slug: string;
  title: string;
  abstract: string | null;
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  publishedOn: string | null;
  upvotes: number;
  codeUrl: string | null;
  links: string[];
  firstSeenAt: string;
  lastSeenAt: string;
  /** The day Hugging Face listed it (ISO date, UTC calendar). */
  listDay: string;
  /** Capture time of the upvote count; null when no capture showed one (the count is then unknown, not 0). */
  upvotesAt: string | null;
  /** Known when a daily_papers JSON dump named the paper. */
  arxivId: string | null;
  authors: string[] | null;
  githubRepo: string | null;
  projectPage: string | null;
  numComments: number | null;
  keywords: string[] | null;
  thumbnail: string | null;
  /** Hugging Face's one-line summary, when a daily_papers answer had one. */
  summary: string | null;
  /** Stars of the code repository when last captured. */
  githubStars: number | null;
  /** When Hugging Face marked it withdrawn (it then goes into no digest); null while it stands. */
  withdrawnAt: string | null;
}


/**
 * A paper's identity: its title in Unicode NFKC, case-folded, with whitespace
 * collapsed and the typographic variants of dashes and quotes made one. Symbols
 * stay: "Q-Learning" and "Q*-Learning", "F" and "F#" are different papers.
 */
export function paperKey(title: string): string {
  // Printable ASCII needs no Unicode tables: the common case, and the fast one.
  const folded = /^[\x20-\x7e]*$/.test(title)
    ? title.toLowerCase()
    : title.normalize("NFKC").toLowerCase().replace(DASHES, "-").replace(SINGLE_QUOTES, "'").replace(DOUBLE_QUOTES, '"');
  // Only runs that are not already one plain space are rewritten: most titles need no new string.
  return folded.replace(/\s{2,}|[^\S ]/g, " ").trim();
}
const DASHES = /[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/g;
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B\u2032]/g;
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u2033]/g;

/** True when a key has something to identify a paper by: a letter, digit or symbol. */
export function isUsableKey(key: string): boolean {
  return /[\p{L}\p{N}]/u.test(key);
}

/** A short stable id for URLs and feed GUIDs: 16 hex digits of SHA-256(key) (more, should two keys ever share them). */
export function paperSlug(key: string, length = 16): string {
  return hash("sha256", key, "hex").slice(0, length);
}

/**
 * True when two abstracts can belong to the same paper: one is missing, or they
 * share most of their words (a revised abstract does; another paper's does not).
 */
export function sameAbstract(a: string | null, b: string | null): boolean {
  if (a === null || b === null || a === b) return true;
  const wa = words(a);
  const wb = words(b);
  let shared = 0;
  for (const w of wa) if (wb.has(w)) shared++;
  const union = wa.size + wb.size - shared;
  return union === 0 || shared / union >= 0.5;
}

function words(s: string): Set<string> {
  return new Set(s.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []);
}

/**
 * A paper's links: its Hugging Face page and arXiv abstract and PDF when the arXiv id
 * is known (from a daily_papers JSON dump); otherwise the papers page searched for its
 * exact title.
 */
export function paperLinks(p: { title: string; arxivId?: string | null }): { url: string; arxivUrl: string | null; pdfUrl: string | null } {
  if (!p.arxivId) return { url: `https://huggingface.co/papers?q=${encodeURIComponent(p.title)}`, arxivUrl: null, pdfUrl: null };
  const id = encodeURIComponent(p.arxivId).replace(/%2F/g, "/");
  return { url: `https://huggingface.co/papers/${id}`, arxivUrl: `https://arxiv.org/abs/${id}`, pdfUrl: `https://arxiv.org/pdf/${id}` };
}

/** The page a paper's title links to. */
export function paperUrl(p: { title: string; arxivId?: string | null }): string {
  return paperLinks(p).url;
}
