import type { Config } from "../config.js";
import { cleanText } from "../dump/clean-text.js";
import { isHttpUrl } from "../dump/links.js";
import { paperLinks } from "../dump/paper-key.js";
import { byline } from "../render/byline.js";
import { escapeHtml } from "../render/escape.js";
import { formatStars, trimText } from "../render/email.js";
import { paperPageUrl } from "../render/links.js";
import type { StoredPaper } from "../store/papers.js";
import { MATCH_END, MATCH_START } from "../store/search.js";
import { rewriteMarked } from "../util/mark-words.js";
import { longDate } from "../util/time.js";

/** A paper as the site's pages show it; every text is plain (Handlebars escapes it) unless named *Html. */
export interface PaperView {
  /** The fragment that points at it within a digest page. */
  anchor: string;
  title: string;
  pageUrl: string;
  hfUrl: string;
  arxivUrl: string | null;
  pdfUrl: string | null;
  codeUrl: string | null;
  stars: string | null;
  projectUrl: string | null;
  upvotes: string;
  byline: string | null;
  listDay: string;
  publishedOn: string | null;
  summary: string | null;
  abstract: string | null;
  /** Search results: the title and the passage with the matching words in <mark>. */
  titleHtml?: string;
  snippetHtml?: string;
}

/** Dump text for a page: controls and private-use characters gone, whitespace runs collapsed. */
function clean(s: string): string {
  return cleanText(s).replace(/[ \t]+/g, " ").trim();
}

/** A stored paper as a page shows it. `abstractChars` cuts the abstract (the front page); the rest show all of it. */
export function paperView(config: Pick<Config, "publicUrl">, p: StoredPaper, options: { abstractChars?: number } = {}): PaperView {
  const links = paperLinks(p);
  const abstract = p.abstract ? clean(p.abstract) : null;
  const codeUrl = p.codeUrl && isHttpUrl(p.codeUrl) ? p.codeUrl : null;
  const who = byline(p);
  return {
    anchor: `paper-${p.slug}`,
    title: clean(p.title),
    pageUrl: paperPageUrl(config, p.slug),
    hfUrl: links.url,
    arxivUrl: links.arxivUrl,
    pdfUrl: links.pdfUrl,
    codeUrl,
    stars: codeUrl && p.githubStars !== null ? formatStars(p.githubStars) : null,
    projectUrl: p.projectPage && isHttpUrl(p.projectPage) ? p.projectPage : null,
    upvotes: p.upvotesAt === null ? "?" : String(p.upvotes),
    byline: who === null ? null : clean(who),
    listDay: longDate(p.listDay),
    publishedOn: p.publishedOn ? longDate(p.publishedOn) : null,
    summary: p.summary ? clean(p.summary) : null,
    abstract: abstract && options.abstractChars ? trimText(abstract.replace(/\s+/g, " "), options.abstractChars) : abstract,
  };
}

/** Marked search text as HTML: each piece cleaned and escaped, the match marks turned into <mark>. */
export function markedHtml(marked: string): string {
  return rewriteMarked(marked, { start: MATCH_START, end: MATCH_END }, (s) => escapeHtml(cleanText(s)), "<mark>", "</mark>");
}
