import { isHttpUrl } from "../model/links.js";
import { paperLinks, type StoredPaper } from "../model/paper.js";
import { cleanText, clip, oneLine } from "../model/text.js";
import type { DayRank } from "../model/rank.js";
import { longDate, shortDay } from "../util/time.js";
import { byline } from "./byline.js";

/**
 * A paper as a reader sees it, built once for every format: the email, the web pages
 * and the feeds write this out and decide nothing of their own (which links, the
 * stars, the byline, the dates, the text as cleaned). Every text is plain; each format
 * escapes it for its place.
 */
export interface PaperView {
  slug: string;
  /** The fragment that points at it within a digest page. */
  anchor: string;
  title: string;
  /** Its page on this site: everything papermail knows of it. */
  pageUrl: string;
  /** Its page on Hugging Face (for a paper known by title only, the papers page searched for it). */
  hfUrl: string;
  arxivUrl: string | null;
  pdfUrl: string | null;
  codeUrl: string | null;
  /** The code's stars as GitHub shows them ("1.2k"), when known. */
  stars: string | null;
  projectUrl: string | null;
  /** Only when thumbnails are wanted (PAPERMAIL_THUMBNAILS). */
  thumbnail: string | null;
  upvotes: number;
  /** The count as shown: "?" when no capture showed one. */
  upvotesLabel: string;
  byline: string | null;
  /** The day Hugging Face listed it, and the day it was published ("Dec 12, 2024"). */
  listDay: string;
  publishedOn: string | null;
  /** Hugging Face's one-line summary. */
  summary: string | null;
  /** The abstract's paragraphs, each on one line; and the whole of it on one line. */
  paragraphs: string[];
  abstract: string;
  /** The reader's topics it matched ("speech, asr"), when the view is for a reader with topics. */
  matches: string | null;
  /** Its place on Hugging Face's list of its day ("#2 of 48 on Dec 15"), when known. */
  place: string | null;
  /** Why it is in a digest, in one line: "matches speech · #2 of 48 on Dec 15". */
  why: string | null;
}

/** What a view needs besides the paper: where its page is, and for whom it is made. */
export interface ViewContext {
  pageUrl: (slug: string) => string;
  thumbnails?: boolean;
  /** The topics of the reader it is for, which it names when it matches them. */
  matcher?: (p: StoredPaper) => string[];
  /** Places on the day's list, by paper id, when known. */
  ranks?: ReadonlyMap<number, DayRank>;
}

/** Builds a paper's view: the one place where its links, stars, byline, dates and text are decided. */
export function paperView(p: StoredPaper, ctx: ViewContext): PaperView {
  const links = paperLinks(p);
  const codeUrl = p.codeUrl && isHttpUrl(p.codeUrl) ? p.codeUrl : null;
  const paragraphs = cleanText(p.abstract ?? "")
    .split(/\n\s*\n/)
    .map(oneLine)
    .filter(Boolean);
  const who = byline(p);
  const matches = ctx.matcher ? ctx.matcher(p).join(", ") || null : null;
  const rank = ctx.ranks?.get(p.id);
  const place = rank ? `#${rank.rank} of ${rank.of} on ${shortDay(rank.day)}` : null;
  return {
    slug: p.slug,
    anchor: `paper-${p.slug}`,
    title: oneLine(cleanText(p.title)),
    pageUrl: ctx.pageUrl(p.slug),
    hfUrl: links.url,
    arxivUrl: links.arxivUrl,
    pdfUrl: links.pdfUrl,
    codeUrl,
    stars: codeUrl && p.githubStars !== null ? formatStars(p.githubStars) : null,
    // Only http(s) links are ever emitted: never javascript: or data:.
    projectUrl: p.projectPage && isHttpUrl(p.projectPage) ? p.projectPage : null,
    thumbnail: ctx.thumbnails && p.thumbnail && isHttpUrl(p.thumbnail) ? p.thumbnail : null,
    upvotes: p.upvotes,
    upvotesLabel: p.upvotesAt === null ? "?" : String(p.upvotes),
    byline: who === null ? null : oneLine(cleanText(who)),
    listDay: p.listDay ? longDate(p.listDay) : "",
    publishedOn: p.publishedOn ? longDate(p.publishedOn) : null,
    summary: p.summary ? oneLine(cleanText(p.summary)) || null : null,
    paragraphs,
    abstract: paragraphs.join(" "),
    matches,
    place,
    why: whyLine(matches, place),
  };
}

/** "matches speech · #2 of 48 on Dec 15": the topics a paper matched and its place, whichever are known. */
export function whyLine(matches: string | null, place: string | null): string | null {
  return [matches ? `matches ${matches}` : null, place].filter(Boolean).join(" · ") || null;
}

/** The abstract cut for a short place (an email, the front page), and whether anything was cut. */
export function shortAbstract(view: PaperView, chars: number): { text: string; cut: boolean } {
  const text = clip(view.abstract, chars, 0.6);
  return { text, cut: text !== view.abstract };
}

/** One link of a paper: its words, where it goes, what a screen reader hears, and a note beside it (the stars). */
export interface PaperLink {
  label: string;
  url: string;
  aria: string;
  note?: string;
}

/** The links a paper gets wherever it is shown, in this order. */
export function linkRow(view: PaperView): PaperLink[] {
  const t = view.title;
  return [
    { label: "Hugging Face", url: view.hfUrl, aria: `${t} on Hugging Face` },
    ...(view.arxivUrl ? [{ label: "arXiv", url: view.arxivUrl, aria: `arXiv page of ${t}` }] : []),
    ...(view.pdfUrl ? [{ label: "PDF", url: view.pdfUrl, aria: `PDF of ${t}` }] : []),
    // A no-break space: the star never ends a line apart from its count.
    ...(view.codeUrl ? [{ label: "Code", url: view.codeUrl, aria: `Code of ${t}`, note: view.stars ? `★\u00a0${view.stars}` : undefined }] : []),
    ...(view.projectUrl ? [{ label: "Project page", url: view.projectUrl, aria: `Project page of ${t}` }] : []),
  ];
}

/** "1.2k" stars, as GitHub shows them. */
export function formatStars(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1).replace(/\.0$/, "")}k` : String(n);
}
