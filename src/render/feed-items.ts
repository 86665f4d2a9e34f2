import { cleanText } from "../model/text.js";
import type { StoredPaper } from "../model/paper.js";
import { escapeHtml } from "./escape.js";
import { linkRow, paperView } from "./paper-view.js";

export interface FeedMeta {
  siteUrl: string;
  /** This feed's own address (with its filter, if any). */
  feedUrl: string;
  /** When the newest item was published; the feed's update time and HTTP Last-Modified. */
  updated: Date;
  /** "papermail: trending papers", with the filter when there is one. */
  title: string;
  /** A paper's own page on this site, which each item links to. */
  paperUrl: (slug: string) => string;
}

export type FeedItem = StoredPaper & { digestCreatedAt: string; categories?: string[] };

/** One paper as every feed format shows it: the same id, link, text and categories. */
export interface FeedEntry {
  /** The paper's stable id: the same in RSS, Atom and JSON Feed, whatever the filter. */
  id: string;
  title: string;
  url: string;
  html: string;
  text: string;
  /** One name each: the first few authors, then "et al."; none for a paper known only by its author count. */
  authors: string[];
  /** The organisation that posted it, apart from its authors. */
  organization: string | null;
  date: Date;
  categories: string[];
}

/** Authors a feed item names before "et al.". */
const FEED_AUTHORS = 5;

/** The author names a feed item carries: the first few, then "et al." for the rest. */
export function feedAuthors(names: readonly string[] | null): string[] {
  const clean = (names ?? []).map((n) => cleanText(n).trim()).filter(Boolean);
  return clean.length > FEED_AUTHORS ? [...clean.slice(0, FEED_AUTHORS), "et al."] : clean;
}

/** Builds the entries of a feed once, from each paper's one view; each format only writes them out. */
export function feedEntries(items: readonly FeedItem[], pageUrl: (slug: string) => string): FeedEntry[] {
  return items.map((p) => {
    const view = paperView(p, { pageUrl });
    const details = [`▲ ${view.upvotesLabel}`, view.byline, view.publishedOn ? `published ${view.publishedOn}` : null].filter(Boolean).join(" · ");
    const links = linkRow(view).map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a>${l.note ? ` ${escapeHtml(l.note)}` : ""}`);
    return {
      id: `papermail:paper:${p.slug}`,
      title: view.title,
      // The paper's own page here: stable, and it leads on to Hugging Face, arXiv and the code.
      url: view.pageUrl,
      html: `${view.paragraphs.map((para) => `<p>${escapeHtml(para)}</p>`).join("") || "<p></p>"}<p>${escapeHtml(details)}</p><p>${links.join(" · ")}</p>`,
      text: `${view.paragraphs.join("\n\n")}\n\n${details}`.trim(),
      authors: feedAuthors(p.authors),
      organization: p.orgName ? cleanText(p.orgName).trim() || null : null,
      date: new Date(p.digestCreatedAt),
      categories: p.categories ?? [],
    };
  });
}
