/** http(s) URLs in free text, trailing punctuation trimmed, duplicates dropped, in order. */
export function extractLinks(text: string): string[] {
  const found: string[] = [];
  // A scan with indexOf: this runs on every abstract of every dump.
  for (let at = text.indexOf("http"); at !== -1; at = text.indexOf("http", at + 4)) {
    const rest = text.startsWith("://", at + 4) ? at + 7 : text.startsWith("s://", at + 4) ? at + 8 : -1;
    if (rest === -1) continue;
    let end = rest;
    while (end < text.length && !URL_STOP.has(text.charCodeAt(end))) end++;
    const url = trimUrl(text.slice(at, end));
    if (end > rest && URL.canParse(url) && !found.includes(url)) found.push(url);
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

function trimUrl(url: string): string {
  let end = url.length;
  for (;;) {
    const ch = url[end - 1];
    if (ch === undefined) break;
    if (".,;:!?*".includes(ch)) end--;
    // A closing bracket belongs to the URL only when the URL opened one.
    else if (ch === ")" && count(url, "(", end) < count(url, ")", end)) end--;
    else if (ch === "]" && count(url, "[", end) < count(url, "]", end)) end--;
    else break;
  }
  return url.slice(0, end);
}

function count(s: string, ch: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (s[i] === ch) n++;
  return n;
}
