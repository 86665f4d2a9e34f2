import { isHttpUrl } from "../dump/links.js";
import { paperLinks } from "../dump/paper-key.js";
import { cleanText } from "../dump/clean-text.js";
import type { StoredPaper } from "../store/papers.js";
import { longDate } from "../util/time.js";
import { byline } from "./byline.js";
import { escapeHtml } from "./escape.js";

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

/** Builds the entries of a feed once; each format only writes them out. */
export function feedEntries(items: readonly FeedItem[], pageUrl: (slug: string) => string): FeedEntry[] {
  return items.map((p) => {
    const links = paperLinks(p);
    const details = [`▲ ${p.upvotes}`, byline(p), p.publishedOn ? `published ${longDate(p.publishedOn)}` : null].filter(Boolean).join(" · ");
    const extra = [
      `<a href="${escapeHtml(links.url)}">Hugging Face</a>`,
      links.arxivUrl ? `<a href="${escapeHtml(links.arxivUrl)}">arXiv</a>` : "",
      links.pdfUrl ? `<a href="${escapeHtml(links.pdfUrl)}">PDF</a>` : "",
      p.codeUrl && isHttpUrl(p.codeUrl) ? `<a href="${escapeHtml(p.codeUrl)}">Code</a>` : "",
      p.projectPage && isHttpUrl(p.projectPage) ? `<a href="${escapeHtml(p.projectPage)}">Project page</a>` : "",
    ].filter(Boolean);
    const abstract = cleanText(p.abstract ?? "");
    return {
      id: `papermail:paper:${p.slug}`,
      title: cleanText(p.title),
      // The paper's own page here: stable, and it leads on to Hugging Face, arXiv and the code.
      url: pageUrl(p.slug),
      html: `<p>${escapeHtml(abstract)}</p><p>${escapeHtml(cleanText(details))}</p>${extra.length > 0 ? `<p>${extra.join(" · ")}</p>` : ""}`,
      text: `${abstract}\n\n${cleanText(details)}`.trim(),
      authors: feedAuthors(p.authors),
      organization: p.orgName ? cleanText(p.orgName).trim() || null : null,
      date: new Date(p.digestCreatedAt),
      categories: p.categories ?? [],
    };
  });
}
