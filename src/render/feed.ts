import RSS from "rss";
import { feedEntries, type FeedItem, type FeedMeta } from "./feed-items.js";

export type { FeedItem, FeedMeta } from "./feed-items.js";

/**
 * RSS 2.0 of papers as digests published them, newest first. Pure: the same items
 * give the same bytes. GUIDs are the papers' stable ids, not URLs, so a new base
 * URL or time zone never shows a reader the same paper twice. Each item carries its
 * authors (dc:creator) and a category per matched topic.
 */
export function renderFeed(meta: FeedMeta, items: readonly FeedItem[]): string {
  const feed = new RSS({
    title: meta.title,
    description: "Trending papers of the Hugging Face Daily Papers page, as papermail publishes them in its digests.",
    site_url: meta.siteUrl,
    feed_url: meta.feedUrl,
    generator: "papermail",
    language: "en",
    pubDate: meta.updated,
    ttl: 60,
  });
  for (const e of feedEntries(items, meta.paperUrl)) {
    feed.item({
      title: e.title,
      description: e.html,
      url: e.url,
      guid: e.id,
      date: e.date,
      categories: e.categories,
      // One dc:creator per author: the rss package's `author` takes one name only.
      custom_elements: e.authors.map((a) => ({ "dc:creator": a })),
    });
  }
  // The rss package stamps lastBuildDate with the clock; the newest item's time keeps the output stable.
  return feed
    .xml({ indent: true })
    .replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, `<lastBuildDate>${meta.updated.toUTCString()}</lastBuildDate>`);
}
