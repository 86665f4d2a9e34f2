import { feedEntries, type FeedItem, type FeedMeta } from "./feed-items.js";

/** JSON Feed 1.1 (jsonfeed.org) of the same entries as the RSS feed, with the same ids. Pure. */
export function renderJsonFeed(meta: FeedMeta, items: readonly FeedItem[]): string {
  const feed = {
    version: "https://jsonfeed.org/version/1.1",
    title: meta.title,
    home_page_url: meta.siteUrl,
    feed_url: meta.feedUrl,
    language: "en",
    items: feedEntries(items, meta.paperUrl).map((e) => ({
      id: e.id,
      url: e.url,
      title: e.title,
      content_html: e.html,
      content_text: e.text,
      date_published: e.date.toISOString(),
      ...(e.authors.length > 0 ? { authors: e.authors.map((name) => ({ name })) } : {}),
      ...(e.organization ? { _papermail: { organization: e.organization } } : {}),
      ...(e.categories.length > 0 ? { tags: e.categories } : {}),
    })),
  };
  return `${JSON.stringify(feed, null, 2)}\n`;
}
