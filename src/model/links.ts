/** http(s) URLs in free text, trailing punctuation trimmed, duplicates dropped, in order. */
export function extractLinks(text: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  // A scan with indexOf: this runs on every abstract of every dump.
  for (let at = text.indexOf("http"); at !== -1; at = text.indexOf("http", at + 4)) {
    const rest = text.startsWith("://", at + 4) ? at + 7 : text.startsWith("s://", at + 4) ? at + 8 : -1;
    if (rest === -1) continue;
    let end = rest;
    while (end < text.length && !URL_STOP.has(text.charCodeAt(end))) end++;
    const url = trimUrl(text.slice(at, end));
    if (end > rest && !seen.has(url) && URL.canParse(url)) {
      seen.add(url);
      found.push(url);
    }
    at = end - 4;
  }
  return found;
}

/**
 * Characters that end a URL in prose: whitespace, quotes, angle brackets, and the
 * braces and backslash of LaTeX leftovers (`https://x/y{https://x/y}`, `\url{...}`).
 */
const URL_STOP = new Set([..." \t\r\n\u00a0<>\"'`{}\\^"].map((c) => c.charCodeAt(0)));

/** The first link that points at a repository on GitHub, if any. */
export function pickCodeLink(links: readonly string[]): string | null {
  // A bare github.com link names no repository, so a path is required.
  return links.find((link) => /^https?:\/\/(www\.)?github\.com\/[^/?#]/i.test(link)) ?? null;
}

/** True for an absolute http: or https: URL with a host; everything else (javascript:, data:) is refused. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/**
 * Trailing punctuation is not part of a URL, and a closing bracket belongs to it only
 * when it opened one. Brackets are counted once, and each trimmed one taken off the
 * count: linear in the URL, however many it ends with.
 */
function trimUrl(url: string): string {
  const open = { paren: 0, square: 0 };
  const close = { paren: 0, square: 0 };
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 40) open.paren++;
    else if (c === 41) close.paren++;
    else if (c === 91) open.square++;
    else if (c === 93) close.square++;
  }
  let end = url.length;
  for (;;) {
    const ch = url[end - 1];
    if (ch === undefined) break;
    if (".,;:!?*".includes(ch)) end--;
    else if (ch === ")" && open.paren < close.paren) {
      end--;
      close.paren--;
    } else if (ch === "]" && open.square < close.square) {
      end--;
      close.square--;
    } else break;
  }
  return url.slice(0, end);
}
