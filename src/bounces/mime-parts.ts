/**
 * A small MIME reader for bounce and feedback messages: headers, parts and their
 * decoded text, in linear time on any input. Everything it looks at is capped (the
 * message, a header block, the parts and their nesting), so a hostile message costs
 * at most a bounded amount of work.
 */

/** The most of a message that is read; the rest of an attached original is never needed. */
export const MESSAGE_LIMIT = 4 * 1024 * 1024;
const HEADER_LIMIT = 256 * 1024;
const MAX_DEPTH = 8;
const MAX_PARTS = 200;

export interface MimeEntity {
  /** Header fields by lower-case name, unfolded, in order (raw bytes as latin1 characters). */
  headers: Map<string, string[]>;
  /** The lower-case media type, such as "multipart/report" ("text/plain" when absent). */
  type: string;
  params: Map<string, string>;
  /** The body after its transfer encoding is undone (bytes as latin1 characters). */
  body: string;
  /** Parts of a multipart; the message inside a message/rfc822 part. */
  parts: MimeEntity[];
}

/** Reads a message into its entities. */
export function parseMime(raw: Buffer): MimeEntity {
  const budget = { parts: 0 };
  return parseEntity(raw.toString("latin1", 0, Math.min(raw.length, MESSAGE_LIMIT)), 0, budget);
}

function parseEntity(text: string, depth: number, budget: { parts: number }): MimeEntity {
  const { head, body } = splitHead(text);
  const headers = parseHeaders(head);
  const { type, params } = parseContentType(first(headers, "content-type"));
  const encoding = (first(headers, "content-transfer-encoding") ?? "").trim().toLowerCase();
  const entity: MimeEntity = { headers, type, params, body: "", parts: [] };
  if (type.startsWith("multipart/") && depth < MAX_DEPTH) {
    let parts = params.get("boundary") ? splitMultipart(body, params.get("boundary")!) : [];
    // A boundary that the body does not use (a broken or rewritten header): the body's own.
    if (parts.length === 0) {
      const own = /^--(\S{1,70})\s*$/m.exec(body.slice(0, 64 * 1024))?.[1];
      if (own) parts = splitMultipart(body, own);
    }
    // A multipart without any part (its boundaries lost on the way): its body is read as text.
    if (parts.length === 0) return { headers, type: "text/plain", params, body: decodeTransfer(body, encoding), parts: [] };
    for (const part of parts) {
      if (++budget.parts > MAX_PARTS) break;
      entity.parts.push(parseEntity(part, depth + 1, budget));
    }
    return entity;
  }
  entity.body = decodeTransfer(body, encoding);
  if (isMessageType(type) && depth < MAX_DEPTH && ++budget.parts <= MAX_PARTS) entity.parts.push(parseEntity(entity.body, depth + 1, budget));
  return entity;
}

/** message/rfc822 and its international sibling message/global (RFC 6532). */
function isMessageType(type: string): boolean {
  return type === "message/rfc822" || type === "message/global";
}

/** The header block and the body: split at the first empty line. */
function splitHead(text: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text.length > HEADER_LIMIT ? text.slice(0, HEADER_LIMIT) : text);
  if (!m) {
    // No empty line: all header if it looks like headers, else all body.
    return /^[\x21-\x39\x3b-\x7e]+:/.test(text) ? { head: text.slice(0, HEADER_LIMIT), body: "" } : { head: "", body: text };
  }
  return { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) };
}

function parseHeaders(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let name = "";
  let value = "";
  const flush = () => {
    if (!name) return;
    const list = headers.get(name);
    if (list) list.push(value.trim());
    else headers.set(name, [value.trim()]);
  };
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && name) {
      value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    flush();
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return headers;
}

/** The first value of a header field. */
export function first(headers: Map<string, string[]>, name: string): string | undefined {
  return headers.get(name)?.[0];
}

function parseContentType(value: string | undefined): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (!value) return { type: "text/plain", params };
  const [typePart, ...rest] = value.split(";");
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq <= 0) continue;
    params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/s, "$1"));
  }
  return { type: (typePart ?? "").trim().toLowerCase() || "text/plain", params };
}

/** The parts between `--boundary` lines, found with a native search. */
function splitMultipart(body: string, boundary: string): string[] {
  const marker = `--${boundary}`;
  const parts: string[] = [];
  let at = body.startsWith(marker) ? 0 : body.indexOf(`\n${marker}`);
  while (at !== -1 && parts.length < MAX_PARTS) {
    const start = body.indexOf("\n", at + 1);
    if (start === -1) break;
    // The closing delimiter ends the multipart.
    if (body.startsWith("--", at + (body[at] === "\n" ? 1 : 0) + marker.length)) break;
    const next = body.indexOf(`\n${marker}`, start);
    const end = next === -1 ? body.length : next;
    parts.push(body.slice(start + 1, end > start && body[end - 1] === "\r" ? end - 1 : end));
    at = next;
  }
  return parts;
}

function decodeTransfer(body: string, encoding: string): string {
  if (encoding === "base64") return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64").toString("latin1");
  if (encoding === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

function decodeQuotedPrintable(text: string): string {
  return text.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** An entity's body as text, in its declared charset (UTF-8 when none or unknown). */
export function textOf(entity: MimeEntity): string {
  return decodeCharset(entity.body, entity.params.get("charset"));
}

function decodeCharset(latin1: string, charset: string | undefined): string {
  const bytes = Buffer.from(latin1, "latin1");
  // ISO-2022-JP announces itself with escape sequences, labelled or not (Japanese servers' reports).
  const name = (charset ?? (latin1.includes("\x1b$B") ? "iso-2022-jp" : "utf-8")).trim().toLowerCase();
  try {
    return new TextDecoder(name === "us-ascii" || name === "ascii" ? "utf-8" : name).decode(bytes);
  } catch {
    return bytes.toString("utf8");
  }
}

/** A header value with its encoded words (RFC 2047) decoded. */
export function decodeHeader(value: string | undefined): string {
  if (!value) return "";
  return value.replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (_, charset: string, how: string, data: string) => {
    const latin1 = how.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("latin1") : decodeQuotedPrintable(data.replace(/_/g, " "));
    return decodeCharset(latin1, charset.split("*")[0]);
  });
}

/** Every entity of a message, depth first; `intoMessages` also walks into attached messages. */
export function* walk(entity: MimeEntity, intoMessages = false): Generator<MimeEntity> {
  yield entity;
  if (isMessageType(entity.type) && !intoMessages) return;
  for (const part of entity.parts) yield* walk(part, intoMessages);
}

/**
 * Addresses in a text, found around each "@" with bounded look-around: linear in the
 * text, whatever it holds (a pattern scanning for addresses from every position is
 * quadratic on a long run without one). At most `max` addresses, lower case.
 */
export function findAddresses(text: string, max = 50): string[] {
  const found: string[] = [];
  const limit = Math.min(text.length, MESSAGE_LIMIT);
  for (let at = text.indexOf("@"); at !== -1 && at < limit && found.length < max; at = text.indexOf("@", at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && isAddressChar(text.charCodeAt(start - 1), true)) start--;
    let end = at + 1;
    while (end < text.length && end - at < 255 && isAddressChar(text.charCodeAt(end), false)) end++;
    const local = text.slice(start, at).replace(/^[.]+/, "");
    const domain = text.slice(at + 1, end).replace(/[.-]+$/, "");
    if (local && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(domain)) {
      const address = `${local}@${domain}`.toLowerCase();
      if (!found.includes(address)) found.push(address);
    }
    at = Math.max(at, end - 1);
  }
  return found;
}

/** Characters of an address: atext and dots, plus any non-ASCII letter before the @. */
function isAddressChar(c: number, local: boolean): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45) return true;
  if (!local) return false;
  return c === 95 || c === 43 || c === 61 || c === 33 || c === 35 || c === 36 || c === 37 || c === 38 || c === 39 || c === 42 || c === 47 || c === 63 || c === 94 || c === 96 || c === 123 || c === 124 || c === 125 || c === 126 || c > 127;
}
