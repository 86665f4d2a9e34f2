import type { StoredPaper } from "../model/paper.js";
import { cleanLine, clip } from "../model/text.js";
import { describeSelection, type Format, type ReaderChoices } from "../model/choices.js";
import { topicMatcher } from "../model/topics.js";
import type { Edition } from "../store/digests.js";
import type { ListDays } from "../store/list-days.js";
import type { DayRank } from "../model/rank.js";
import { dayRange, longDate } from "../util/time.js";
import { linkRow, paperView, shortAbstract, whyLine, type PaperView } from "./paper-view.js";
import { MARK } from "./recipient-marks.js";

/** Where a digest points, besides the papers. */
export interface DigestLinks {
  siteUrl: string;
  archiveUrl: string;
  feedUrl: string;
}

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
  /** The day's top papers outside the readers' topics, shown under theirs ("Also trending"). */
  also?: readonly StoredPaper[];
  /** Each paper's place on its day's list, by id. */
  ranks?: ReadonlyMap<number, DayRank>;
}

/**
 * The subject line: the list days covered, then the top paper and how many more
 * ("Trending on Hugging Face · Dec 12: Title and 29 more"; weekly: "This week on
 * Hugging Face · Dec 8-14: ..."). The top paper tells apart the digests of readers
 * with other topics.
 */
export function digestSubject(titles: readonly string[], days: ListDays | null, edition: Edition = "daily"): string {
  const top = clip(cleanLine(titles[0] ?? "Trending papers"), 60);
  const papers = titles.length > 1 ? `${top} and ${titles.length - 1} more` : top;
  return `${digestHeading(days, edition)}: ${papers}`;
}

/** "Trending on Hugging Face · Dec 12", or "This week on Hugging Face · Dec 8-14" for a weekly edition. */
export function digestHeading(days: ListDays | null | undefined, edition: Edition = "daily"): string {
  const name = edition === "weekly" ? "This week on Hugging Face" : "Trending on Hugging Face";
  return days ? `${name} · ${dayRange(days.from, days.through)}` : name;
}

/** A paper as the email shows it: its view, its abstract cut to fit, and its link row. */
export type EmailPaper = PaperView & { short: string; trimmed: boolean; links: ReturnType<typeof linkRow> };

/** What the email's template and text part are made from. */
export interface DigestView {
  subject: string;
  compact: boolean;
  kicker: string;
  headline: string;
  intro: string;
  /** Why the reader gets this email: the edition and their choices. */
  why: string;
  preview: string;
  papers: EmailPaper[];
  /** "Also trending": titles, upvotes and why, no abstracts. */
  also: EmailPaper[];
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

/** The email of `papers` (those shown, then how many more), abstracts cut to `abstractChars`. */
export function buildDigestView(
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
  const views = papers.map((p): EmailPaper => {
    const base = emailPaper(p, pageUrl, options.thumbnails ?? false, abstractChars, options.ranks);
    if (!matcher) return base;
    return matchedView(base, matcher(p).join(", ") || null);
  });
  const also = (options.also ?? []).map((p): EmailPaper => {
    const view = paperView(p, { pageUrl, ranks: options.ranks });
    return { ...view, short: "", trimmed: false, links: linkRow(view) };
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
    also,
    more,
    moreUrl: firstLeftOut ? `${links.archiveUrl}#paper-${firstLeftOut.slug}` : links.archiveUrl,
    ...links,
    siteHost: new URL(links.siteUrl).host,
    recipientHtml: MARK.recipient,
    unsubscribeUrlHtml: MARK.unsubscribeUrl,
    preferencesUrlHtml: MARK.preferencesUrl,
  };
}

/**
 * Views already built, per paper object: the groups of one send share their papers'
 * objects, so each paper's view, cut abstract and links are worked out once per send,
 * not once per group; only what depends on a group's topics is added per group.
 */
const built = new WeakMap<StoredPaper, Map<string, EmailPaper>>();

function emailPaper(p: StoredPaper, pageUrl: (slug: string) => string, thumbnails: boolean, abstractChars: number, ranks: ReadonlyMap<number, DayRank> | undefined): EmailPaper {
  const rank = ranks?.get(p.id);
  const key = `${pageUrl(p.slug)}\n${thumbnails}\n${abstractChars}\n${rank ? `${rank.rank}/${rank.of}/${rank.day}` : ""}`;
  let views = built.get(p);
  const hit = views?.get(key);
  if (hit) return hit;
  const view = paperView(p, { pageUrl, thumbnails, ranks });
  const { text, cut } = shortAbstract(view, abstractChars);
  const made: EmailPaper = { ...view, short: text, trimmed: cut || view.abstract === "", links: linkRow(view) };
  if (!views) built.set(p, (views = new Map()));
  // A few keys per paper at most (the abstract is cut shorter only when an email is over budget).
  if (views.size < 8) views.set(key, made);
  return made;
}

/** A view with the topics it matched, one object per view and topics: the groups that matched it alike share its blocks. */
const matched = new WeakMap<EmailPaper, Map<string, EmailPaper>>();

function matchedView(base: EmailPaper, matches: string | null): EmailPaper {
  let views = matched.get(base);
  const hit = views?.get(matches ?? "");
  if (hit) return hit;
  const made: EmailPaper = { ...base, matches, why: whyLine(matches, base.place) };
  if (!views) matched.set(base, (views = new Map()));
  // Bounded: a paper that matches many different topic sets is written again past this.
  if (views.size < 64) views.set(matches ?? "", made);
  return made;
}

/** " listed on Dec 12", " listed Dec 12-15", or "" when the days are not known. */
export function listedWhen(days: ListDays | null | undefined, weekly: boolean): string {
  if (!days) return weekly ? " of the week" : "";
  return days.from === days.through ? ` listed on ${dayRange(days.from, days.through)}` : ` listed ${dayRange(days.from, days.through)}`;
}
