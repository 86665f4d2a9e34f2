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
  author: string | null;
  date: Date;
  categories: string[];
}

/** Builds the entries of a feed once; each format only writes them out. */
export function feedEntries(items: readonly FeedItem[]): FeedEntry[] {
  return items.map((p) => {
    const links = paperLinks(p);
    const details = [`▲ ${p.upvotes}`, byline(p), p.publishedOn ? `published ${longDate(p.publishedOn)}` : null].filter(Boolean).join(" · ");
    const extra = [
      links.arxivUrl ? `<a href="${escapeHtml(links.arxivUrl)}">arXiv</a>` : "",
      links.pdfUrl ? `<a href="${escapeHtml(links.pdfUrl)}">PDF</a>` : "",
      p.codeUrl && isHttpUrl(p.codeUrl) ? `<a href="${escapeHtml(p.codeUrl)}">Code</a>` : "",
      p.projectPage && isHttpUrl(p.projectPage) ? `<a href="${escapeHtml(p.projectPage)}">Project page</a>` : "",
    ].filter(Boolean);
    const abstract = cleanText(p.abstract ?? "");
    return {
      id: `papermail:paper:${p.slug}`,
      title: cleanText(p.title),
      url: links.url,
      html: `<p>${escapeHtml(abstract)}</p><p>${escapeHtml(cleanText(details))}</p>${extra.length > 0 ? `<p>${extra.join(" · ")}</p>` : ""}`,
      text: `${abstract}\n\n${cleanText(details)}`.trim(),
      author: cleanText(byline({ ...p, numComments: null }) ?? "") || null,
      date: new Date(p.digestCreatedAt),
      categories: p.categories ?? [],
    };
  });
}
