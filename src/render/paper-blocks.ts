import { quotedPrintableLengthBound } from "./quoted-printable.js";

/**
 * A paper's part of a digest email (its HTML block or its lines of text), written
 * once and shared by every rendering that shows the same view of it the same way:
 * the groups of one send mostly carry the same papers, so each group renders only
 * what is its own (the header, the why-lines, the footer). A sender also keeps the
 * block's quoted-printable form on it, made the first time a message needs it.
 */
export interface SharedBlock {
  readonly text: string;
  /** quotedPrintableLengthBound(text), for the email's size check. */
  readonly qpBound: number;
  /** Its quoted-printable lines, set by the first message template built with it. */
  qp?: EncodedSegment;
}

/** A piece of text as quoted-printable lines: see encodeSegment. */
export interface EncodedSegment {
  /** The text before its first line break, not encoded yet: it ends a line begun before it. */
  first: string;
  /** Whether it breaks a line at all; if not, all of it is `first`. */
  breaks: boolean;
  /** Every whole line after the first break, encoded, each ended by CRLF. */
  body: string;
  /** The text after its last line break, not encoded yet: the next piece may go on with that line. */
  last: string;
}

/** Where a rendering's paper blocks go: a marker (a private-use character no dump text keeps) the renderer splits at. */
export const PAPERS_MARK = "\uE000papers\uE000";

/** A rendering's pieces in order: its own text, and shared blocks. */
export type Segment = string | SharedBlock;

const blocks = new WeakMap<object, Map<string, SharedBlock>>();
/** Ways one view is shown (full or compact, first or not, HTML or text): a handful. */
const KEPT_PER_VIEW = 8;

/**
 * The block `render` makes of `view`, made once for as long as the view lives. The
 * views of a send's papers are shared between its groups (see buildDigestView), so
 * `key` must name everything besides the view that the block depends on.
 */
export function sharedBlock(view: object, key: string, render: () => string): SharedBlock {
  let made = blocks.get(view);
  const hit = made?.get(key);
  if (hit) return hit;
  const text = render();
  const block: SharedBlock = { text, qpBound: quotedPrintableLengthBound(text) };
  if (!made) blocks.set(view, (made = new Map()));
  if (made.size < KEPT_PER_VIEW) made.set(key, block);
  return block;
}

/** The text of segments, as one string. */
export function joinSegments(segments: readonly Segment[]): string {
  let out = "";
  for (const s of segments) out += typeof s === "string" ? s : s.text;
  return out;
}

/**
 * An upper bound of the quoted-printable length of the joined segments: the sum of
 * theirs, and a few characters for each join (a line that goes on across a join may
 * need one more soft break and escape than its two halves counted apart).
 */
export function segmentsQpBound(segments: readonly Segment[]): number {
  let total = 0;
  for (const s of segments) total += typeof s === "string" ? quotedPrintableLengthBound(s) : s.qpBound;
  return total + 9 * Math.max(0, segments.length - 1);
}
