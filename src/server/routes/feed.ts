import { paperPageUrl } from "../../render/links.js";
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../../config/load.js";
import { topicMatcher } from "../../model/topics.js";
import { DEFAULT_CHOICES, parseChoices, selectionQuery } from "../../model/choices.js";
import type { SelectionChoices } from "../../digest/selection.js";
import { renderFeed } from "../../render/feed.js";
import { renderAtom } from "../../render/feed-atom.js";
import type { FeedItem } from "../../render/feed-items.js";
import { renderJsonFeed } from "../../render/feed-json.js";
import type { Db } from "../../store/db.js";
import { publishedPapers } from "../../store/digest-papers.js";
import { digestLimits, recentCandidates, type Candidate } from "../../store/digest-candidates.js";
import { selectPapers } from "../../digest/selection.js";
import { HttpError, send } from "../http.js";

export type FeedFormat = "rss" | "atom" | "json";

/** Which papers a feed shows: those matching any of the topics (all when none), with at least so many upvotes. */
export interface FeedFilter {
  topics: string[];
  minUpvotes: number;
}

const FORMATS: Record<FeedFormat, { path: string; type: string; render: typeof renderFeed }> = {
  rss: { path: "/feed.xml", type: "application/rss+xml; charset=utf-8", render: renderFeed },
  atom: { path: "/feed.atom", type: "application/atom+xml; charset=utf-8", render: renderAtom },
  json: { path: "/feed.json", type: "application/feed+json; charset=utf-8", render: renderJsonFeed },
};

/** Feed paths the site serves, by format. */
export const FEED_PATHS: Record<string, FeedFormat> = { "/feed.xml": "rss", "/feed.atom": "atom", "/feed.json": "json" };

/**
 * A feed of published papers in one format, filtered, with its validators. Items keep
 * their stable ids whatever the format or filter; each carries a category per topic
 * it matched. The newest PAPERMAIL_FEED_ITEMS papers that pass the filter are shown.
 */
export function buildFeed(db: Db, config: Config, format: FeedFormat = "rss", filter: FeedFilter = { topics: [], minUpvotes: 0 }) {
  const filtered = filter.topics.length > 0 || filter.minUpvotes > 0;
  const items = filtered ? chosenItems(db, config, filter) : publishedPapers(db, config.feedItems).map((p): FeedItem => ({ ...p, categories: [] }));
  const lastModified = new Date(items[0]?.digestCreatedAt ?? 0);
  const query = selectionQuery(filter);
  const title = filtered ? `papermail: trending papers${filter.topics.length ? ` on ${filter.topics.join(", ")}` : ""}${filter.minUpvotes ? ` (▲ ${filter.minUpvotes}+)` : ""}` : "papermail: trending papers";
  const { path, type, render } = FORMATS[format];
  const body = render({ siteUrl: `${config.publicUrl}/`, feedUrl: `${config.publicUrl}${path}${query}`, updated: lastModified, title, paperUrl: (slug) => paperPageUrl(config, slug) }, items);
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { body, type, etag, lastModified };
}

/**
 * A filtered feed's items: what a reader with these choices got from each of the
 * newest daily digests (the best papers of its days on their topics, as the freeze
 * chose them), newest digest first, each with a category per topic it matched.
 */
function chosenItems(db: Db, config: Config, filter: FeedFilter): FeedItem[] {
  const match = topicMatcher(filter.topics);
  const byDigest = new Map<number, Candidate[]>();
  for (const c of recentCandidates(db, config.feedItems)) {
    const list = byDigest.get(c.digestId);
    if (list) list.push(c);
    else byDigest.set(c.digestId, [c]);
  }
  const ids = [...byDigest.keys()];
  const limits = ids.length > 0 ? digestLimits(db, Math.min(...ids) - 1, Math.max(...ids)) : new Map<number, number>();
  const items: FeedItem[] = [];
  for (const [digestId, offered] of byDigest) {
    const { papers } = selectPapers(offered, { ...filter, alsoTrending: 0 }, () => limits.get(digestId) ?? 0);
    for (const p of papers) items.push({ ...p, digestCreatedAt: offered[0]!.madeAt, categories: filter.topics.length > 0 ? match(p) : [] });
    if (items.length >= config.feedItems) break;
  }
  return items.slice(0, config.feedItems);
}

/** The filter of a request's query; a bad value is a 400 that says what is wrong. */
export function readFeedFilter(params: URLSearchParams): FeedFilter {
  // The same rules, and words, as a reader's choices on the form and the command line.
  const parsed = parseChoices({ topics: params.get("topics") ?? undefined, minUpvotes: params.get("min_upvotes") ?? undefined }, "query");
  if (!parsed.ok) throw new HttpError(400, parsed.error);
  return { topics: parsed.choices.topics ?? [], minUpvotes: parsed.choices.minUpvotes ?? 0 };
}

/** A reader's choices from a page's query (topics, min_upvotes, also), or undefined for the whole digest; a bad value is a 400. */
export function readSelection(params: URLSearchParams): SelectionChoices | undefined {
  if (!params.has("topics") && !params.has("min_upvotes")) return undefined;
  const { topics, minUpvotes } = readFeedFilter(params);
  const parsed = parseChoices({ alsoTrending: params.get("also") ?? undefined }, "query");
  if (!parsed.ok) throw new HttpError(400, parsed.error);
  return { topics, minUpvotes, alsoTrending: parsed.choices.alsoTrending ?? DEFAULT_CHOICES.alsoTrending };
}

/** Serves /feed.xml, /feed.atom and /feed.json, filtered by the query; built feeds are cached until a digest is published. */
export function createFeedHandler(db: Db, config: Config) {
  const cache = new Map<string, ReturnType<typeof buildFeed>>();
  let cacheKey = "";
  const latest = db.prepare<[], { key: string | null }>("SELECT (SELECT max(id) FROM digests) || ':' || (SELECT count(*) FROM digest_papers) AS key");
  const unfiltered: FeedFilter = { topics: [], minUpvotes: 0 };
  return (req: IncomingMessage, res: ServerResponse, format: FeedFormat, params: URLSearchParams): void => {
    // The plain feed, what most readers poll, skips reading a filter.
    const filter = params.size === 0 ? unfiltered : readFeedFilter(params);
    const key = latest.get()?.key ?? "";
    if (key !== cacheKey) {
      cache.clear();
      cacheKey = key;
    }
    const variant = filter === unfiltered ? format : `${format}${selectionQuery(filter)}`;
    let feed = cache.get(variant);
    if (!feed) {
      feed = buildFeed(db, config, format, filter);
      // Filters are readers' choices: keep the cache bounded whatever they ask for.
      if (cache.size >= 200) cache.delete(cache.keys().next().value!);
      cache.set(variant, feed);
    }
    const { body, type, etag, lastModified } = feed;
    const headers = { ETag: etag, "Last-Modified": lastModified.toUTCString(), "Cache-Control": "public, max-age=300" };
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    const notModified = inm !== undefined ? inm.split(",").some((t) => t.trim() === etag || t.trim() === "*") : ims !== undefined && Date.parse(ims) >= Math.floor(lastModified.getTime() / 1000) * 1000;
    if (notModified) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    send(res, 200, type, body, headers);
  };
}
