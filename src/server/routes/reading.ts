import { findPaperBySlug } from "../../store/papers.js";
import { FAVICON_ICO, FAVICON_SVG } from "../favicon.js";
import { createFeedHandler, FEED_PATHS, readSelection } from "./feed.js";
import { send } from "../http.js";
import { renderNotice, renderPage } from "../pages.js";
import { archiveEntries, renderDigestPage, renderPaperPage, renderSearchPage } from "../reader-pages.js";
import { HTML, PUBLIC, type AppDeps, type SitePages } from "../site-pages.js";
import type { Route } from "./route.js";

const STATIC = { "Cache-Control": "public, max-age=86400" };

/** What anyone may read: the front page, the feeds, the digest archive, paper pages and search. */
export function readingRoutes(deps: AppDeps, pages: SitePages): Route[] {
  const { config, db } = deps;
  const feed = createFeedHandler(db, config);
  return [
    { path: "/", GET: (_req, res) => send(res, 200, HTML, pages.plainHomePage()) },
    ...Object.entries(FEED_PATHS).map(([path, format]): Route => ({ path, GET: (req, res, { url }) => feed(req, res, format, url.searchParams) })),
    { path: "/digests", GET: (_req, res) => send(res, 200, HTML, renderPage(config, "digests", "Digest archive", { digests: archiveEntries(db, 1000) }), PUBLIC) },
    {
      path: /^\/digests\/(\d{1,9})$/,
      GET(_req, res, { url, params: [id] }) {
        const html = renderDigestPage(config, db, Number(id), readSelection(url.searchParams));
        if (html === undefined) return send(res, 404, HTML, renderNotice(config, "Not found", "There is no such digest."));
        send(res, 200, HTML, html, PUBLIC);
      },
    },
    {
      path: /^\/papers\/([A-Za-z0-9_-]{1,80})$/,
      GET(_req, res, { params: [slug] }) {
        const found = findPaperBySlug(db, slug!);
        if (!found) return send(res, 404, HTML, renderNotice(config, "Not found", "There is no such paper here. Search for it with the box above."));
        if (found.moved) return send(res, 301, "text/plain; charset=utf-8", "Moved.\n", { Location: `/papers/${found.paper.slug}` });
        send(res, 200, HTML, renderPaperPage(config, db, found.paper), PUBLIC);
      },
    },
    {
      path: "/search",
      GET(_req, res, { url }) {
        const page = Number(url.searchParams.get("page") ?? "1");
        // Any page number that is not a small whole number is the first page: a query is data, never an error.
        const n = Number.isInteger(page) && page >= 1 && page <= 500 ? page : 1;
        send(res, 200, HTML, renderSearchPage(config, db, url.searchParams.get("q") ?? "", n));
      },
    },
    { path: "/favicon.ico", GET: (_req, res) => send(res, 200, "image/x-icon", FAVICON_ICO, STATIC) },
    { path: "/favicon.svg", GET: (_req, res) => send(res, 200, "image/svg+xml", FAVICON_SVG, STATIC) },
  ];
}
