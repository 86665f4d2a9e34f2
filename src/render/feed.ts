import RSS from "rss";
import { cleanText } from "../dump/clean-text.js";
import { isHttpUrl } from "../dump/links.js";
import { paperLinks } from "../dump/paper-key.js";
import type { StoredPaper } from "../store/papers.js";
import { longDate } from "../util/time.js";
import { byline } from "./byline.js";
import { escapeHtml } from "./escape.js";

export interface FeedMeta {
  siteUrl: string;
  feedUrl: string;
  /** When the newest item was published; the feed's lastBuildDate and HTTP Last-Modified. */
  updated: Date;
}

export type FeedItem = StoredPaper & { digestCreatedAt: string };


/**
 * RSS 2.0 of papers as digests published them, newest first. Pure: the same items
 * give the same bytes. GUIDs are the papers' stable ids, not URLs, so a new base
 * URL or time zone never shows a reader the same paper twice.
 */
export function renderFeed(meta: FeedMeta, items: readonly FeedItem[]): string {
  const feed = new RSS({
    title: "papermail: trending papers",
    description: "Trending papers of the Hugging Face Daily Papers page, as papermail publishes them in its digests.",
    site_url: meta.siteUrl,
    feed_url: meta.feedUrl,
    generator: "papermail",
    language: "en",
    pubDate: meta.updated,
    ttl: 60,
  });
  for (const p of items) {
    const details = [`▲ ${p.upvotes}`, byline(p), p.publishedOn ? `published ${longDate(p.publishedOn)}` : null].filter(Boolean).join(" · ");
    const links = paperLinks(p);
    const extra = [
      links.arxivUrl ? `<a href="${escapeHtml(links.arxivUrl)}">arXiv</a>` : "",
      links.pdfUrl ? `<a href="${escapeHtml(links.pdfUrl)}">PDF</a>` : "",
      p.codeUrl && isHttpUrl(p.codeUrl) ? `<a href="${escapeHtml(p.codeUrl)}">Code</a>` : "",
      p.projectPage && isHttpUrl(p.projectPage) ? `<a href="${escapeHtml(p.projectPage)}">Project page</a>` : "",
    ].filter(Boolean);
    const code = extra.length > 0 ? `<p>${extra.join(" · ")}</p>` : "";
    feed.item({
      title: clean(p.title),
      description: `<p>${escapeHtml(clean(p.abstract ?? ""))}</p><p>${escapeHtml(clean(details))}</p>${code}`,
      url: links.url,
      guid: `papermail:paper:${p.slug}`,
      date: new Date(p.digestCreatedAt),
    });
  }
  // The rss package stamps lastBuildDate with the clock; the newest item's time keeps the output stable.
  return feed
    .xml({ indent: true })
    .replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, `<lastBuildDate>${meta.updated.toUTCString()}</lastBuildDate>`);
}

/** What XML 1.0 cannot carry is removed by the same rule that cleans dumps: old rows may predate it. */
function clean(s: string): string {
  return cleanText(s);
}
