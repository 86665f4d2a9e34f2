import type { EncodedSegment } from "./paper-blocks.js";

/** Quoted-printable (RFC 2045) of UTF-8 text; \n becomes a hard CRLF, lines stay within 76 characters. */
export function encodeQuotedPrintable(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  return lines.map(encodeQpLine).join("\r\n");
}

/** Printable ASCII and tab: such a line needs only its "=" escaped. */
const ASCII_LINE = /^[\x20-\x7e\t]*$/;
/** What quoted-printable must escape inside a line: "=", controls, and every byte of a non-ASCII character. */
const UNSAFE = /[=\x00-\x08\x0a-\x1f\x7f-\u{10ffff}]/gu;

function escapeChar(ch: string): string {
  let out = "";
  for (const b of Buffer.from(ch, "utf8")) out += `=${b < 16 ? "0" : ""}${b.toString(16).toUpperCase()}`;
  return out;
}

/**
 * One line, in string operations: escape what must be, and a final blank, then
 * cut into 75-column pieces without splitting an escape. A piece never starts with a dot.
 */
export function encodeQpLine(line: string): string {
  let s = ASCII_LINE.test(line) ? (line.includes("=") ? line.replaceAll("=", "=3D") : line) : line.replace(UNSAFE, escapeChar);
  const last = s.charCodeAt(s.length - 1);
  if (last === 32 || last === 9) s = `${s.slice(0, -1)}${last === 32 ? "=20" : "=09"}`;
  if (s.charCodeAt(0) === 46) s = `=2E${s.slice(1)}`;
  if (s.length <= 75) return s;
  let out = "";
  let pos = 0;
  while (s.length - pos > 75) {
    let end = pos + 75;
    // Every "=" in s starts a three-character escape: never cut inside one.
    if (s.charCodeAt(end - 1) === 61) end -= 1;
    else if (s.charCodeAt(end - 2) === 61) end -= 2;
    out += `${s.slice(pos, end)}=\r\n`;
    pos = end;
    if (s.charCodeAt(pos) === 46) s = `${s.slice(0, pos)}=2E${s.slice(pos + 1)}`;
  }
  return out + s.slice(pos);
}

/**
 * A piece of a longer text as quoted-printable lines: the whole lines it holds are
 * encoded, the text before its first and after its last line break is left for the
 * pieces around it, so pieces encoded apart join into what the whole text gives.
 */
export function encodeSegment(text: string, encodeLine: (line: string) => string = encodeQpLine): EncodedSegment {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines.length === 1) return { first: text, breaks: false, body: "", last: "" };
  let body = "";
  for (let i = 1; i < lines.length - 1; i++) body += `${encodeLine(lines[i]!)}\r\n`;
  return { first: lines[0]!, breaks: true, body, last: lines[lines.length - 1]! };
}

/**
 * encodeQpLine with a memory of the lines it has encoded. The groups of one digest
 * share nearly every line (the papers, the footer), so a send encodes each once.
 * Keys and values are copied flat: a line cut from a rendering must not keep the
 * whole rendering alive. Full, it starts over, so memory stays bounded.
 */
export function memoizedQpLines(maxLines = 4096): (line: string) => string {
  const seen = new Map<string, string>();
  const flat = (s: string) => Buffer.from(s, "utf16le").toString("utf16le");
  return (line) => {
    const known = seen.get(line);
    if (known !== undefined) return known;
    const encoded = encodeQpLine(line);
    if (seen.size >= maxLines) seen.clear();
    seen.set(flat(line), flat(encoded));
    return encoded;
  };
}

/**
 * The length `encodeQuotedPrintable(text)` has, or a little more, counted without
 * building it (a size check runs for every rendering): each escaped byte is three
 * characters, and a line gets a three-character soft break every 73 characters, which
 * covers pieces cut short to keep an escape whole. Only ever an upper bound.
 */
export function quotedPrintableLengthBound(text: string): number {
  let total = 0;
  let line = 0;
  let first = -1;
  let last = -1;
  const endLine = () => {
    // A leading dot and a final blank are escaped: two more characters each.
    if (first === 46) line += 2;
    if (last === 32 || last === 9) line += 2;
    total += line + (line > 75 ? 3 * Math.ceil(line / 73) : 0);
    line = 0;
    first = last = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      endLine();
      total += 2;
      continue;
    }
    if (c === 13) continue;
    if (first === -1) first = c;
    last = c;
    if ((c >= 32 && c < 127 && c !== 61) || c === 9) line += 1;
    else if (c < 128) line += 3;
    else if (c < 0x800) line += 6;
    else if (c >= 0xd800 && c < 0xdc00) {
      line += 12;
      i++;
    } else line += 9;
  }
  endLine();
  return total;
}
