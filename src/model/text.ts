/**
 * Characters no text from a dump may carry: C0/C1 controls but tab and line ends,
 * private-use characters (the renderer's per-recipient markers are among them) and
 * noncharacters. What is left is valid in XML, HTML and a terminal.
 */
const UNWANTED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uE000-\uF8FF\uFDD0-\uFDEF\uFFFE\uFFFF]|[\uDB80-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** A plain character class, fast on the megabytes of a dump; it also lets through to the full rule any text with astral characters. */
const MAYBE_UNWANTED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uD800-\uDFFF\uE000-\uF8FF\uFDD0-\uFDEF\uFFFE\uFFFF]/;

/** Removes controls (not tabs or line ends), private-use characters and noncharacters from text. */
export function cleanText(s: string): string {
  if (!MAYBE_UNWANTED.test(s)) return s;
  return s.replace(UNWANTED, "");
}

/** Whitespace that oneLine would change: a run of two, any but a plain space, or at either end. */
const NOT_ONE_LINE = /\s\s|[^\S ]|^\s|\s$/;

/** Text on one line: arXiv wraps long titles ("...for\n  Contrastive Loss"), a title has no line breaks. */
export function oneLine(s: string): string {
  // Stored text is mostly on one line already: testing costs no copy, replacing does.
  return NOT_ONE_LINE.test(s) ? s.replace(/\s+/g, " ").trim() : s;
}

/** Paragraphs kept (blank lines), each unwrapped onto one line: the shape of an abstract. */
export function unwrapParagraphs(s: string): string {
  return s
    .split(/\n[ \t]*(?:\r?\n[ \t]*)+/)
    .map(oneLine)
    .filter(Boolean)
    .join("\n\n");
}

/**
 * Text cut to at most `max` characters, ending with "…": at the last space when one
 * comes after `atWord` of the length (a word is not cut in two), trailing punctuation
 * dropped. The one way text is shortened anywhere (subjects, abstracts, messages).
 */
export function clip(text: string, max: number, atWord = 0.5): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * atWord ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, "")}…`;
}

/** Text on one line and cleaned, for where a paper's words are shown in a line (an email, a subject, a feed). */
export function cleanLine(s: string): string {
  return oneLine(cleanText(s));
}
