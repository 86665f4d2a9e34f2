import type { Config } from "../config/load.js";
import { cleanText } from "../model/text.js";
import { digestHeading } from "../render/digest-view.js";
import { describeDigestMessage } from "../render/digest-message.js";
import { digestContent } from "../digest/content.js";
import type { Db } from "../store/db.js";
import { digestDays, digestOfPaper, findDigest, listDigests, neighbourDigests, newestDigestId, type ListedDigest } from "../store/digests.js";
import { digestPapers } from "../store/digest-papers.js";
import { paperFate } from "../store/list-days.js";
import { paperOffer } from "../store/digest-candidates.js";
import { listPapers } from "../store/papers.js";
import type { StoredPaper } from "../model/paper.js";
import { searchPapers } from "../store/search.js";
import { dayRange, longDate } from "../util/time.js";
import { linkRow, paperView, shortAbstract, type ViewContext } from "../render/paper-view.js";
import { chosenContent } from "../digest/content.js";
import type { SelectionChoices } from "../digest/selection.js";
import { describeSelection, selectionQuery } from "../model/choices.js";
import { topicMatcher } from "../model/topics.js";
import { paperPageUrl } from "../render/links.js";
import { escapeHtml } from "../render/escape.js";
import { MATCH_END, MATCH_START } from "../store/search.js";
import { rewriteMarked } from "../util/mark-words.js";
import { renderPage } from "./pages.js";

/** Results on one search page. */
export const SEARCH_PAGE_SIZE = 20;
/** Papers of the latest digest the front page shows, as the email shows them. */
const FRONT_PAGE_PAPERS = 5;

/** "Dec 12" or "Dec 12-15" for a digest, or its date when it knows no list days. */
function digestLabel(d: ListedDigest): string {
  const days = digestDays(d);
  return days ? `${d.edition === "weekly" ? "week of " : ""}${dayRange(days.from, days.through)}` : longDate(d.createdAt.slice(0, 10));
}

const digestUrl = (id: number) => `/digests/${id}`;

/** A paper as the site's pages show it: the one view, and its link row. */
function pageView(config: Config, p: StoredPaper, more: Pick<ViewContext, "ranks" | "matcher"> = {}) {
  const view = paperView(p, { pageUrl: (slug) => paperPageUrl(config, slug), thumbnails: false, ...more });
  return { ...view, links: linkRow(view) };
}

/** Marked search text as HTML: each piece cleaned and escaped, the match marks turned into <mark>. */
function markedHtml(marked: string): string {
  return rewriteMarked(marked, { start: MATCH_START, end: MATCH_END }, (s) => escapeHtml(cleanText(s)), "<mark>", "</mark>");
}

/**
 * A digest as a web page: every paper with its full abstract, its list days, the
 * digests before and after. What it says (heading, intro, which papers in which order)
 * comes from the digest's message, as the email's does.
 */
export function renderDigestPage(config: Config, db: Db, id: number, choices?: SelectionChoices): string | undefined {
  const digest = findDigest(db, id);
  if (!digest) return undefined;
  const content = digestContent(db, id);
  // With a reader's choices (their email's "View on the web"), the page shows what they got.
  const chosen = choices && (choices.topics.length > 0 || choices.minUpvotes > 0) ? chosenContent(db, id, choices) : undefined;
  const message = describeDigestMessage(config, content, chosen);
  const ranks = chosen?.ranks ?? content.ranks;
  const matcher = chosen && chosen.choices.topics.length > 0 ? topicMatcher(chosen.choices.topics) : undefined;
  const { previous, next } = neighbourDigests(db, id);
  const query = chosen ? selectionQuery(chosen.choices) : "";
  const link = (d: ListedDigest | undefined) => d && { url: digestUrl(d.id) + query, label: digestLabel(d) };
  return renderPage(config, "digest", message.heading, {
    kicker: `${digest.edition === "weekly" ? "Weekly" : "Daily"} digest #${digest.id} · published ${longDate(digest.createdAt.slice(0, 10))}`,
    heading: message.heading,
    intro: message.intro,
    papers: message.papers.map((p) => pageView(config, p, { ranks, matcher })),
    also: (chosen?.also ?? []).map((p) => pageView(config, p, { ranks })),
    selection: chosen && { words: describeSelection(chosen.choices), allUrl: digestUrl(id), all: content.papers.length },
    previous: link(previous),
    next: link(next),
  });
}

/** A paper's own page: everything papermail knows of it, and the digest that carried it. */
export function renderPaperPage(config: Config, db: Db, paper: StoredPaper): string {
  const view = pageView(config, paper);
  const digest = digestOfPaper(db, paper.id);
  const fate = digest ? undefined : paperStory(db, paper.id);
  const names = (paper.authors ?? []).map((a) => cleanText(a).trim()).filter(Boolean);
  return renderPage(config, "paper-page", view.title, {
    paper: view,
    countedOn: paper.upvotesAt ? longDate(paper.upvotesAt.slice(0, 10)) : null,
    authors: names.length > 0 ? names.join(", ") : paper.authorsCount !== null ? `${paper.authorsCount} ${paper.authorsCount === 1 ? "author" : "authors"}` : null,
    organization: paper.orgName ? cleanText(paper.orgName) : null,
    keywords: paper.keywords && paper.keywords.length > 0 ? paper.keywords.map((k) => cleanText(k)).join(", ") : null,
    paragraphs: view.paragraphs,
    digest: digest && { url: digestUrl(digest.id), subject: digest.subject },
    fate,
    withdrawn: paper.withdrawnAt ? longDate(paper.withdrawnAt.slice(0, 10)) : null,
  });
}

/** What became of a paper that no digest's global list carries, in the words of what happened to it. */
function paperStory(db: Db, paperId: number): { digestUrl?: string; text: string } | null {
  const offer = paperOffer(db, paperId);
  if (offer && offer.groups.length > 0) {
    const topics = [...new Set(offer.groups.flatMap((g) => (JSON.parse(g) as { topics?: string[] }).topics ?? []))];
    return { digestUrl: digestUrl(offer.digestId), text: `sent in digest #${offer.digestId} to readers of ${topics.length > 0 ? describeSelection({ topics, minUpvotes: 0 }) : "every paper"}` };
  }
  const fate = paperFate(db, paperId);
  if (!fate) return null;
  const what = fate.fate === "expired" ? "expired" : fate.fate === "sent" ? "sent" : "passed over";
  return { text: fate.note ? `${what}: ${fate.note}` : what };
}

/** The search page: the query's results, marked and paged, or the empty form. */
export function renderSearchPage(config: Config, db: Db, query: string, page: number): string {
  const q = query.trim().slice(0, 300);
  if (!q) return renderPage(config, "search", "Search", { heading: "Search papers", query: "" });
  // The site only reads the index: ingest, fetch and purge keep it up to date (off this event loop).
  const offset = (page - 1) * SEARCH_PAGE_SIZE;
  const result = searchPapers(db, q, { limit: SEARCH_PAGE_SIZE, offset });
  const count = `${result.total.toLocaleString("en")}${result.more ? "+" : ""}`;
  const summary =
    result.words.length === 0
      ? "Type a word or two: letters and digits are what a search looks for."
      : result.total === 0
        ? `No paper matches ${result.words.map((w) => `"${w}"`).join(" or ")}.`
        : result.match === "any"
          ? `No paper has all of these words; ${count} have some of them, best match first.`
          : `${count} ${result.total === 1 && !result.more ? "paper matches" : "papers match"}, best match first.`;
  const href = (n: number) => `/search?q=${encodeURIComponent(q)}${n > 1 ? `&page=${n}` : ""}`;
  const hasNext = offset + result.papers.length < result.total || (result.more && result.papers.length === SEARCH_PAGE_SIZE);
  return renderPage(config, "search", `Search: ${q}`, {
    heading: `Search: ${q}`,
    query: q,
    summary,
    start: offset + 1,
    papers: result.papers.map((p) => ({ ...pageView(config, p), abstract: null, titleHtml: markedHtml(p.markedTitle), snippetHtml: markedHtml(p.markedSnippet) })),
    pages: page > 1 || hasNext ? { number: page, previous: page > 1 ? href(page - 1) : null, next: hasNext ? href(page + 1) : null } : null,
  });
}

/** The front page's sample of the email: the latest digest's top papers, with a one-line summary or the start of the abstract. */
export function latestTopPapers(config: Config, db: Db) {
  const id = newestDigestId(db);
  const digest = id > 0 ? findDigest(db, id) : undefined;
  const show = (p: StoredPaper) => {
    const view = pageView(config, p);
    // One line of summary when Hugging Face gave one, else the start of the abstract.
    return { ...view, abstract: view.summary ? null : shortAbstract(view, 220).text };
  };
  if (!digest) {
    // Before the first digest, the newest stored papers: a new installation shows what it has.
    const newest = listPapers(db, { limit: FRONT_PAGE_PAPERS });
    if (newest.length === 0) return null;
    return { heading: "Newest papers", caption: "stored, not sent in a digest yet", url: null, more: 0, papers: newest.map(show) };
  }
  const papers = digestPapers(db, id).slice(0, FRONT_PAGE_PAPERS);
  return {
    heading: digestHeading(digestDays(digest), digest.edition),
    caption: "the top of the latest digest",
    url: digestUrl(id),
    more: Math.max(0, digest.paperCount - papers.length),
    papers: papers.map(show),
  };
}

/** The archive's list of digests, newest first. */
export function archiveEntries(db: Db, limit: number) {
  return listDigests(db, limit).map((d) => ({ subject: d.subject, url: digestUrl(d.id), date: d.createdAt.slice(0, 10), paperCount: d.paperCount }));
}
