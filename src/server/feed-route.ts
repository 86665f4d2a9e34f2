import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config.js";
import { renderFeed } from "../render/feed.js";
import type { Db } from "../store/db.js";
import { publishedPapers } from "../store/digests.js";
import { send } from "./http.js";

/** The feed's XML with its validators, built from the published digests. */
export function buildFeed(db: Db, config: Config): { xml: string; etag: string; lastModified: Date } {
  const items = publishedPapers(db, config.feedItems);
  const newest = items[0]?.digestCreatedAt;
  const lastModified = new Date(newest ?? 0);
  const xml = renderFeed({ siteUrl: `${config.publicUrl}/`, feedUrl: `${config.publicUrl}/feed.xml`, updated: lastModified }, items);
  const etag = `"${createHash("sha256").update(xml).digest("base64url").slice(0, 27)}"`;
  return { xml, etag, lastModified };
}

/** Cache of the last built feed: rebuilt only when a digest was published since. */
export function createFeedHandler(db: Db, config: Config) {
  let cached: { key: string; feed: ReturnType<typeof buildFeed> } | undefined;
  const latest = db.prepare<[], { key: string | null }>("SELECT (SELECT max(id) FROM digests) || ':' || (SELECT count(*) FROM digest_papers) AS key");
  return (req: IncomingMessage, res: ServerResponse): void => {
    const key = latest.get()?.key ?? "";
    if (!cached || cached.key !== key) cached = { key, feed: buildFeed(db, config) };
    const { xml, etag, lastModified } = cached.feed;
    const headers = { ETag: etag, "Last-Modified": lastModified.toUTCString(), "Cache-Control": "public, max-age=300" };
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    const notModified = inm !== undefined ? inm.split(",").some((t) => t.trim() === etag || t.trim() === "*") : ims !== undefined && Date.parse(ims) >= Math.floor(lastModified.getTime() / 1000) * 1000;
    if (notModified) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    send(res, 200, "application/rss+xml; charset=utf-8", xml, headers);
  };
}
