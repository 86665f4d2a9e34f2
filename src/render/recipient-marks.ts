import { escapeHtml } from "./escape.js";
import type { Segment } from "./paper-blocks.js";

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

/** A digest rendered once, with per-recipient markers still in it. */
export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
  /** The same html and text in pieces, the papers' blocks shared with other renderings of the send (a message template encodes each block once). */
  segments?: { html: readonly Segment[]; text: readonly Segment[] };
}

/**
 * A rendered digest with its markers filled for one reader outside the mail path
 * (a preview file): escaped for HTML in the HTML part.
 */
export function fillRecipient(rendered: RenderedDigest, values: RecipientFill): RenderedDigest {
  const fill = (s: string, escape: (v: string) => string) => MARKED.reduce((out, [mark, key]) => out.replaceAll(mark, escape(values[key])), s);
  return { subject: rendered.subject, html: fill(rendered.html, escapeHtml), text: fill(rendered.text, (v) => v) };
}
