import type { Config } from "../config/load.js";
import { selectionQuery, type ReaderChoices } from "../model/choices.js";
import type { DayRank } from "../model/rank.js";
import type { StoredPaper } from "../model/paper.js";
import type { Edition } from "../store/digests.js";
import type { ListDays } from "../store/list-days.js";
import { digestHeading, digestSubject, listedWhen } from "./digest-view.js";
import { renderDigest } from "./email.js";
import { digestLinks, listId, paperPageUrl } from "./links.js";
import { POSTMARK_MESSAGE_ID_HEADER, type MessageHeaders } from "./mime.js";
import type { RenderedDigest } from "./recipient-marks.js";

/** A digest as the messages about it need it: frozen (with its id) or the next edition, not frozen yet (a preview, a test copy). */
export interface DigestContent {
  id?: number;
  edition: Edition;
  /** The frozen digest's subject; the next edition's is made from its papers. */
  subject?: string;
  /** Every paper of the digest, in its order. */
  papers: StoredPaper[];
  days: ListDays | null;
  createdAt: string;
  /** Each paper's place on its day's list when the digest was made, when known. */
  ranks?: ReadonlyMap<number, DayRank>;
}

/** One group of a digest's readers: their choices and the papers they get (group 0, the whole digest, has neither). */
export interface DigestGroupContent {
  choices: ReaderChoices;
  papers: StoredPaper[];
  /** The day's top papers outside their topics ("Also trending"). */
  also?: StoredPaper[];
  ranks?: ReadonlyMap<number, DayRank>;
}

/** What a digest's message for one group says, before it is written out as an email. */
export interface DigestMessageText {
  subject: string;
  heading: string;
  /** "30 papers listed on Dec 12, most upvoted first." */
  intro: string;
  /** The papers it carries, in order. */
  papers: StoredPaper[];
  headers: MessageHeaders;
}

/** A digest's message for one group: what it says, and the email (markers for each reader still in it). */
export type DigestMessage = DigestMessageText & RenderedDigest;

/**
 * The one way a digest becomes a message: sending, `send-digest --preview` and `--to`
 * and the console's test copy all call this, so what a reader gets and what a test
 * copy shows cannot disagree. (The digest's web page takes what the message says,
 * describeDigestMessage, and writes it out as a page.)
 */
export async function renderDigestMessage(config: Config, digest: DigestContent, group?: DigestGroupContent, format?: ReaderChoices["format"]): Promise<DigestMessage> {
  const text = describeDigestMessage(config, digest, group);
  const links = digestLinks(config, digest.id);
  // A reader with choices opens the digest's page as they got it.
  if (group && digest.id !== undefined) links.archiveUrl += selectionQuery(group.choices);
  const rendered = await renderDigest(text.subject, text.papers, links, {
    also: group?.also ?? [],
    ranks: group?.ranks ?? digest.ranks,
    thumbnails: config.thumbnails,
    edition: digest.edition,
    days: digest.days,
    format: group?.choices.format ?? format,
    choices: group?.choices,
    madeAt: digest.createdAt,
    paperUrl: (slug) => paperPageUrl(config, slug),
  });
  return { ...text, ...rendered };
}

/** What a digest's message for one group says: its subject, heading, intro, papers and headers. */
export function describeDigestMessage(config: Config, digest: DigestContent, group?: DigestGroupContent): DigestMessageText {
  const papers = group ? group.papers : digest.papers;
  // Each group's subject names its own top paper.
  const subject = !group && digest.subject ? digest.subject : digestSubject(papers.map((p) => p.title), digest.days, digest.edition);
  const weekly = digest.edition === "weekly";
  return {
    subject,
    heading: digestHeading(digest.days, digest.edition),
    intro: `${papers.length} ${papers.length === 1 ? "paper" : "papers"}${listedWhen(digest.days, weekly)}, most upvoted first${weekly ? " by their upvotes when this edition was made" : ""}.`,
    papers,
    headers: {
      from: config.from,
      date: new Date(digest.createdAt),
      listId: listId(config),
      // Postmark returns a message's metadata headers in its webhooks, not its Message-ID: the proof rides along.
      ...(config.postmarkWebhookSecret ? { messageIdCopy: POSTMARK_MESSAGE_ID_HEADER } : {}),
      extra: {
        ...(digest.id !== undefined ? { "X-Papermail-Digest": String(digest.id) } : {}),
        // Gmail's feedback loop groups complaints by these fields (campaign:kind:product:sender); no field names a reader.
        "Feedback-ID": `d${digest.id ?? 0}:digest:papermail:${new URL(config.publicUrl).hostname}`,
        // RFC 3834 5: made by an automatic process, not a reply to anyone; vacation responders stay quiet.
        // No "Precedence: bulk": it is not a standard (RFC 2076 advises against it) and List-Id already says "list".
        "Auto-Submitted": "auto-generated",
      },
    },
  };
}
