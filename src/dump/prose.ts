import { clip } from "../model/text.js";

/**
 * Abstract prose, never a title: long, a link in it, ending like a sentence clause,
 * or two sentences. Titles on the page are under 150 characters and may end with
 * "?" or "!", but not with "."; "vs. B" in a short title is not a sentence break.
 */
export function isProse(line: string): boolean {
  return (
    line.length > 200 || line.includes("://") || /[.,;:]["')\]]?$/.test(line) || (line.length >= 100 && /[a-z0-9)][.!?] [A-Z]/.test(line))
  );
}

export function describeStray(lines: readonly string[]): string {
  if (lines.length > 1) return `block skipped: ${lines.length} lines of text where a paper title was expected`;
  return `block skipped: a ${lines[0]!.length}-character line of text where a paper title was expected`;
}

/** A piece of the dump quoted in a problem: short enough for one line of output. */
export function quote(s: string): string {
  return clip(s, 60, 1);
}
