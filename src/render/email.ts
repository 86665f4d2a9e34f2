import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PapermailError } from "../errors.js";
import { cleanText } from "../dump/clean-text.js";
import { isHttpUrl } from "../dump/links.js";
import { paperLinks } from "../dump/paper-key.js";
import type { StoredPaper } from "../store/papers.js";
import { byline } from "./byline.js";
import { escapeHtml } from "./escape.js";
import type { ListDays } from "../store/list-days.js";
import { dayRange, longDate } from "../util/time.js";
import { describeSelection, type Format, type ReaderChoices } from "../subscribers/choices.js";
import { topicMatcher } from "../model/topics.js";
import { quotedPrintableLengthBound } from "./quoted-printable.js";
import type { Edition } from "../store/digests.js";

/** How one rendering looks and whom it is for: the edition, and the group's choices (none for the web archive). */
export interface RenderOptions {
  budgetBytes?: number;
  thumbnails?: boolean;
  edition?: Edition;
  format?: Format;
  /** The readers' topics and minimum: the footer says why they get this email. */
  choices?: Pick<ReaderChoices, "topics" | "minUpvotes">;
  /** The list days the digest covers: the header names them. */
  days?: ListDays | null;
  /** When the digest was made: the header's date. */
  madeAt?: string;
  /** A paper's page on the site, where "Read more" leads. */
  paperUrl?: (slug: string) => string;
}


const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

/**
 * Per-recipient values are substituted after rendering. The markers use a
 * private-use character that is stripped from every dump text, so a paper can
 * never produce one.
 */
export const MARK = {
  unsubscribeUrl: "\uE000unsubscribe\uE000",
  preferencesUrl: "\uE000preferences\uE000",
  recipient: "\uE000recipient\uE000",
} as const;

/** What fills the markers for one reader. */
export interface RecipientFill {
  recipient: string;
  unsubscribeUrl: string;
  preferencesUrl: string;
}

/** Each marker with the value that fills it. */
export const MARKED: ReadonlyArray<[string, keyof RecipientFill]> = [
  [MARK.recipient, "recipient"],
  [MARK.unsubscribeUrl, "unsubscribeUrl"],
  [MARK.preferencesUrl, "preferencesUrl"],
];

/**
 * A rendered digest with its markers filled for one reader outside the mail path
 * (preview, test copy, the web archive): escaped for HTML in the HTML part.
 */
export function fillRecipient(rendered: RenderedDigest, values: RecipientFill): RenderedDigest {
  const fill = (s: string, escape: (v: string) => string) => MARKED.reduce((out, [mark, key]) => out.replaceAll(mark, escape(values[key])), s);
  return { subject: rendered.subject, html: fill(rendered.html, escapeHtml), text: fill(rendered.text, (v) => v) };
}

/** Where the email points, besides the papers. */
export interface DigestLinks {
  siteUrl: string;
  archiveUrl: string;
  feedUrl: string;
}

/** A digest rendered once, with per-recipient markers still in it. */
export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
}

/** Abstract length in the email; the rest is a "Read more" away. Keeps typical digests far below Gmail's 102 KB clip. */
const ABSTRACT_CHARS = 320;
/**
 * HTML budget, counted as sent (quoted-printable): Gmail clips a message whose HTML
 * passes 102 KB; 95 KB keeps a margin for the recipient's own links and the client's
 * additions. Over it, the email trims abstracts, then moves papers to the web page.
 */
export const HTML_BUDGET_BYTES = 95 * 1024;

const compiled = new Map<string, Promise<HandlebarsTemplateDelegate>>();

/** templates/NAME.mjml compiled with strict validation into an HTML template: once per process. */
export function compileMjmlTemplate(name: string): Promise<HandlebarsTemplateDelegate> {
  let template = compiled.get(name);
  if (!template) {
    template = (async () => {
      const source = readFileSync(`${TEMPLATES_DIR}${name}.mjml`, "utf8");
      let result;
      try {
        // MJML takes half a second to load: only commands that render pay for it, when they first do.
        const { default: mjml2html } = await import("mjml");
        // fonts: {} — MJML otherwise links Google Fonts for any font list naming Roboto or
        // Open Sans, and every open would tell Google the reader's address.
        result = await mjml2html(source, { validationLevel: "strict", filePath: TEMPLATES_DIR, fonts: {} });
      } catch (err) {
        throw new PapermailError("TEMPLATE", `templates/${name}.mjml: ${(err as Error).message}`, {}, { cause: err });
      }
      if (result.errors.length > 0) {
        const e = result.errors[0]!;
        throw new PapermailError("TEMPLATE", `templates/${name}.mjml:${e.line}: ${e.message}`);
      }
      // MJML indents generously; the indentation alone is a third of a digest's bytes.
      const html = result.html.replace(/\n[ \t]+/g, "\n").replace(/\n{2,}/g, "\n");
      return Handlebars.compile(html);
    })();
    compiled.set(name, template);
  }
  return template;
}

/**
 * The subject line: the list days covered, then the top paper and how many more
 * ("Trending on Hugging Face · Dec 12: Title and 29 more"; weekly: "This week on
 * Hugging Face · Dec 8-14: ..."). The top paper tells apart the digests of readers
 * with other topics.
 */
export function digestSubject(titles: readonly string[], days: ListDays | null, edition: Edition = "daily"): string {
  const top = clipTitle(clean(titles[0] ?? "Trending papers"));
  const papers = titles.length > 1 ? `${top} and ${titles.length - 1} more` : top;
  return `${digestHeading(days, edition)}: ${papers}`;
}

/** "Trending on Hugging Face · Dec 12", or "This week on Hugging Face · Dec 8-14" for a weekly edition. */
export function digestHeading(days: ListDays | null | undefined, edition: Edition = "daily"): string {
  const name = edition === "weekly" ? "This week on Hugging Face" : "Trending on Hugging Face";
  return days ? `${name} · ${dayRange(days.from, days.through)}` : name;
}

/** A title short enough for a subject line: cut at a word, with an ellipsis. */
function clipTitle(title: string, max = 60): string {
  if (title.length <= max) return title;
  const cut = title.slice(0, max - 3);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.5 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, "")}...`;
}

/**
 * Renders a frozen digest once: HTML through the compiled template (Handlebars
 * escapes every value) and the plain-text part. Trims abstracts further, then
 * moves papers to the web archive, until the HTML fits the clipping budget.
 */
export async function renderDigest(
  subject: string,
  papers: readonly StoredPaper[],
  links: DigestLinks,
  options: RenderOptions = {},
): Promise<RenderedDigest> {
  const template = await compileMjmlTemplate("digest");
  const budget = options.budgetBytes ?? HTML_BUDGET_BYTES;
  let abstractChars = ABSTRACT_CHARS;
  let shown = papers.length;
  for (;;) {
    const view = buildView(subject, papers.slice(0, shown), papers[shown], papers.length - shown, abstractChars, links, options);
    const html = template(view);
    if (html.length <= budget && quotedPrintableLengthBound(html) <= budget) return { subject, html, text: renderText(view) };
    if (shown <= 1) {
      return { subject, html, text: renderText(view) };
    }
    if (abstractChars > 160 && options.format !== "compact") abstractChars = Math.floor(abstractChars * 0.75);
    else shown = Math.max(1, Math.floor(shown * 0.8));
  }
}

interface PaperView {
  title: string;
  url: string;
  /** Its page on the site: the full abstract and every link. */
  pageUrl: string;
  arxivUrl: string | null;
  pdfUrl: string | null;
  projectUrl: string | null;
  /** Shown only with PAPERMAIL_THUMBNAILS=true. */
  thumbnail: string | null;
  upvotes: number;
  byline: string | null;
  date: string | null;
  abstract: string;
  trimmed: boolean;
  codeUrl: string | null;
  /** "1.2k", when the code's stars are known. */
  stars: string | null;
  /** Hugging Face's one-line summary. */
  summary: string | null;
  /** The reader's topics this paper matched ("speech, asr"), for a filtered reader. */
  matches: string | null;
}

interface DigestView {
  subject: string;
  compact: boolean;
  kicker: string;
  headline: string;
  intro: string;
  /** Why the reader gets this email: the edition and their choices. */
  why: string;
  preview: string;
  papers: PaperView[];
  more: number;
  /** Where "And N more" leads: the first paper the email left out, on the digest's web page. */
  moreUrl: string;
  archiveUrl: string;
  siteUrl: string;
  siteHost: string;
  feedUrl: string;
  recipientHtml: string;
  unsubscribeUrlHtml: string;
  preferencesUrlHtml: string;
}

function buildView(
  subject: string,
  papers: readonly StoredPaper[],
  firstLeftOut: StoredPaper | undefined,
  more: number,
  abstractChars: number,
  links: DigestLinks,
  options: RenderOptions,
): DigestView {
  const matcher = options.choices && options.choices.topics.length > 0 ? topicMatcher(options.choices.topics) : undefined;
  const pageUrl = options.paperUrl ?? ((slug: string) => `${links.siteUrl}papers/${encodeURIComponent(slug)}`);
  const views = papers.map((p): PaperView => {
    const abstract = clean(p.abstract ?? "");
    const short = trimText(abstract, abstractChars);
    const codeUrl = p.codeUrl && isHttpUrl(p.codeUrl) ? p.codeUrl : null;
    return {
      title: clean(p.title),
      ...paperLinks(p),
      pageUrl: pageUrl(p.slug),
      projectUrl: p.projectPage && isHttpUrl(p.projectPage) ? p.projectPage : null,
      thumbnail: options.thumbnails && p.thumbnail && isHttpUrl(p.thumbnail) ? p.thumbnail : null,
      upvotes: p.upvotes,
      byline: cleanOrNull(byline(p)),
      date: p.publishedOn ? longDate(p.publishedOn) : null,
      abstract: short,
      trimmed: short !== abstract || abstract === "",
      // Only http(s) links are ever emitted: never javascript: or data:.
      codeUrl,
      stars: codeUrl && p.githubStars !== null ? formatStars(p.githubStars) : null,
      summary: p.summary ? clean(p.summary) : null,
      matches: matcher ? matcher(p).join(", ") || null : null,
    };
  });
  const total = papers.length + more;
  const weekly = options.edition === "weekly";
  const selection = options.choices && (options.choices.topics.length > 0 || options.choices.minUpvotes > 0) ? describeSelection(options.choices) : undefined;
  return {
    subject,
    compact: options.format === "compact",
    kicker: `${weekly ? "Weekly" : "Daily"} digest${options.madeAt ? ` · ${longDate(options.madeAt.slice(0, 10))}` : ""}`,
    headline: digestHeading(options.days, options.edition),
    intro: `${total} ${selection ? `of your ${selection}` : total === 1 ? "paper" : "papers"}${listedWhen(options.days, weekly)}, most upvoted first${weekly ? " by their upvotes when this edition was made" : ""}.`,
    why: `the ${weekly ? "weekly" : "daily"} digest${selection ? ` of ${selection}` : ""}`,
    preview: views
      .slice(0, 3)
      .map((v) => v.title)
      .join(" · "),
    papers: views,
    more,
    moreUrl: firstLeftOut ? `${links.archiveUrl}#paper-${firstLeftOut.slug}` : links.archiveUrl,
    ...links,
    siteHost: new URL(links.siteUrl).host,
    recipientHtml: MARK.recipient,
    unsubscribeUrlHtml: MARK.unsubscribeUrl,
    preferencesUrlHtml: MARK.preferencesUrl,
  };
}

/** " listed on Dec 12", " listed Dec 12-15", or "" when the days are not known. */
function listedWhen(days: ListDays | null | undefined, weekly: boolean): string {
  if (!days) return weekly ? " of the week" : "";
  return days.from === days.through ? ` listed on ${dayRange(days.from, days.through)}` : ` listed ${dayRange(days.from, days.through)}`;
}

function renderText(view: DigestView): string {
  const lines = [view.headline, `${view.kicker} · ${view.intro}`, `View this digest on the web: ${view.archiveUrl}`, ""];
  view.papers.forEach((p, i) => {
    const code = p.codeUrl ? `Code: ${p.codeUrl}${p.stars ? ` (★ ${p.stars})` : ""}` : "";
    if (view.compact) {
      lines.push(`${i + 1}. ${p.title}`, `   ▲ ${p.upvotes} · ${p.url}${p.pdfUrl ? ` · PDF: ${p.pdfUrl}` : ""}${code ? ` · ${code}` : ""}`);
      if (p.matches) lines.push(`   matches: ${p.matches}`);
      lines.push("");
      return;
    }
    lines.push(`${i + 1}. ${p.title}`);
    lines.push(`   ▲ ${p.upvotes}${p.byline ? ` · ${p.byline}` : ""}${p.date ? ` · ${p.date}` : ""}${p.matches ? ` · matches: ${p.matches}` : ""}`);
    if (p.summary) lines.push("", wrap(p.summary, 72, "   "));
    if (p.abstract) lines.push("", wrap(p.abstract, 72, "   "));
    lines.push("", `   Read more: ${p.trimmed ? p.pageUrl : p.url}`);
    if (p.arxivUrl) lines.push(`   arXiv: ${p.arxivUrl}  PDF: ${p.pdfUrl}`);
    if (code) lines.push(`   ${code}`);
    if (p.projectUrl) lines.push(`   Project page: ${p.projectUrl}`);
    lines.push("");
  });
  if (view.more > 0) lines.push(`And ${view.more} more: ${view.moreUrl}`, "");
  lines.push("-- ", `You get this email because ${MARK.recipient} subscribed to ${view.why} at ${view.siteHost}.`);
  lines.push(`Your choices (topics, daily or weekly, format): ${MARK.preferencesUrl}`, `Unsubscribe: ${MARK.unsubscribeUrl}`, `RSS feed: ${view.feedUrl}`, "");
  return lines.join("\n");
}

/** "1.2k" stars, as GitHub shows them. */
export function formatStars(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1).replace(/\.0$/, "")}k` : String(n);
}

/** Dump text with controls and private-use characters (the markers among them) stripped, whitespace runs collapsed. */
function clean(s: string): string {
  return cleanText(s).replace(/\s+/g, " ").trim();
}

function cleanOrNull(s: string | null): string | null {
  return s === null ? null : clean(s);
}

/** Cuts at a word boundary and adds an ellipsis when text is longer than `max`. */
export function trimText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, "")}…`;
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out.join("\n");
}
