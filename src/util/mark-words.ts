/** A word as the search index reads it: lower case, accents off ("Schrödinger" is "schrodinger"). */
export function foldWord(word: string): string {
  return word.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** Wraps each word of `text` that is one of `words` (folded) in `start` and `end`. */
export function markWords(text: string, words: ReadonlySet<string>, start: string, end: string): string {
  return text.replace(WORD, (w) => (words.has(foldWord(w)) ? `${start}${w}${end}` : w));
}

/**
 * The passage of about `size` words of `text` with the most of `words` in it, marked,
 * with "…" where it cuts; the start of the text when none is in it.
 */
export function markedPassage(text: string, words: ReadonlySet<string>, start: string, end: string, size = 32): string {
  const tokens = [...text.matchAll(WORD)];
  if (tokens.length <= size) return markWords(text, words, start, end);
  const hits = tokens.map((t) => (words.has(foldWord(t[0])) ? 1 : 0));
  let best = 0;
  let bestCount = -1;
  let count = 0;
  for (let i = 0; i < tokens.length; i++) {
    count += hits[i]!;
    if (i >= size) count -= hits[i - size]!;
    // Start a little before the first hit, so that the passage reads as a sentence's middle rather than its cut.
    if (i >= size - 1 && count > bestCount) {
      bestCount = count;
      best = i - size + 1;
    }
  }
  if (bestCount > 0) best = Math.max(0, Math.min(best, hits.indexOf(1, best) - 4));
  const from = best === 0 ? 0 : tokens[best]!.index!;
  const last = tokens[Math.min(tokens.length, best + size) - 1]!;
  const to = best + size >= tokens.length ? text.length : last.index! + last[0].length;
  return `${from > 0 ? "…" : ""}${markWords(text.slice(from, to), words, start, end)}${to < text.length ? "…" : ""}`;
}

/** Marked text rewritten for its reader: each piece through `piece` (escaping, cleaning), each marked word between `open` and `close`. */
export function rewriteMarked(marked: string, marks: { start: string; end: string }, piece: (s: string) => string, open: string, close: string): string {
  return marked
    .split(marks.start)
    .map((part, i) => {
      if (i === 0) return piece(part);
      const [inside = "", ...after] = part.split(marks.end);
      return `${open}${piece(inside)}${close}${piece(after.join(""))}`;
    })
    .join("");
}
