import { feedEntries, type FeedItem, type FeedMeta } from "./feed-items.js";

/** Atom 1.0 (RFC 4287) of the same entries as the RSS feed, with the same ids. Pure. */
export function renderAtom(meta: FeedMeta, items: readonly FeedItem[]): string {
  const x = escapeXml;
  const entries = feedEntries(items, meta.paperUrl).map((e) =>
    [
      "  <entry>",
      `    <id>${x(`urn:${e.id}`)}</id>`,
      `    <title>${x(e.title)}</title>`,
      `    <link rel="alternate" type="text/html" href="${x(e.url)}"/>`,
      `    <updated>${e.date.toISOString()}</updated>`,
      `    <published>${e.date.toISOString()}</published>`,
      ...e.authors.map((a) => `    <author><name>${x(a)}</name></author>`),
      ...e.categories.map((c) => `    <category term="${x(c)}"/>`),
      `    <content type="html">${x(e.html)}</content>`,
      "  </entry>",
    ]
      .filter(Boolean)
      .join("\n"),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `  <id>${x(meta.feedUrl)}</id>`,
    `  <title>${x(meta.title)}</title>`,
    `  <updated>${meta.updated.toISOString()}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${x(meta.feedUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${x(meta.siteUrl)}"/>`,
    "  <author><name>papermail</name></author>",
    '  <generator uri="https://huggingface.co/papers">papermail</generator>',
    ...entries,
    "</feed>",
    "",
  ].join("\n");
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
