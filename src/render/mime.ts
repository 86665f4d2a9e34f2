import { createHash } from "node:crypto";
import { MARKED, type RenderedDigest } from "./recipient-marks.js";
import { escapeHtml } from "./escape.js";
import { formatFrom } from "./from.js";
import { encodeHeaderWords } from "./header-words.js";
import { encodeQpLine, encodeQuotedPrintable, encodeSegment } from "./quoted-printable.js";
import type { EncodedSegment, Segment } from "./paper-blocks.js";

/** What differs from one recipient to the next. */
export interface RecipientValues {
  to: string;
  messageId: string;
  /** Digests have one (List-Unsubscribe); one-off messages do not. */
  unsubscribeUrl?: string;
  /** The reader's preferences page, linked next to unsubscribe. */
  preferencesUrl?: string;
}

/** A digest message built once; `personalise` only adds the small per-recipient pieces to prepared buffers. */
export interface MessageTemplate {
  personalise(values: RecipientValues): Buffer[];
  /** The buffer holding every static piece (from `allocate`): a sender may reuse it once no message of this template is in flight. */
  readonly backing: Buffer;
}

export interface MessageHeaders {
  from: string;
  date: Date;
  /** Digests belong to a list (List-Id, one-click unsubscribe); one-off messages do not. */
  listId?: string;
  /** A header that repeats each reader's Message-ID (a provider that reports only such headers back). */
  messageIdCopy?: string;
  /** Extra headers, already safe ASCII (e.g. X-Papermail-Digest). */
  extra?: Record<string, string>;
}

/** How a sender that builds many templates shares work between them. */
export interface TemplateOptions {
  /** Where the static pieces go: a buffer of at least `bytes` (a sender reuses them; fresh by default). */
  allocate?: (bytes: number) => Buffer;
  /** Quoted-printable of one line (a memo of encodeQpLine, see memoizedQpLines). */
  encodeLine?: (line: string) => string;
}

/** Postmark's metadata header whose value comes back in its webhooks as Metadata.papermail. */
export const POSTMARK_MESSAGE_ID_HEADER = "X-PM-Metadata-papermail";

/** Static text as short strings written one after another (no large string is ever built), or a per-recipient slot. */
type Piece = string[] | ((v: RecipientValues) => string);
type Prepared = Buffer | ((v: RecipientValues) => string);

/**
 * Builds the multipart/alternative message (plain text + HTML, quoted-printable)
 * of a rendered digest. Static parts are encoded once; the markers left by the
 * renderer become slots filled per recipient, each encoded for its place.
 */
export function buildMessageTemplate(rendered: RenderedDigest, headers: MessageHeaders, options: TemplateOptions = {}): MessageTemplate {
  const allocate = options.allocate ?? ((bytes: number) => Buffer.allocUnsafeSlow(bytes));
  const encodeLine = options.encodeLine ?? encodeQpLine;
  // Made from the content, not at random: the same digest gives the same bytes to every
  // reader and to a test copy (but for each reader's own parts), and a hash of the
  // parts never occurs in them.
  const html = rendered.segments?.html ?? [rendered.html];
  const text = rendered.segments?.text ?? [rendered.text];
  const hash = createHash("sha256").update(rendered.subject).update("\0");
  for (const s of html) hash.update(typeof s === "string" ? s : s.text);
  hash.update("\0");
  for (const s of text) hash.update(typeof s === "string" ? s : s.text);
  const boundary = `=_papermail_${hash.digest("hex").slice(0, 24)}`;
  const pieces: Piece[] = [];
  const copy = headers.messageIdCopy;
  const head = [
    `From: ${formatFrom(headers.from)}`,
    `Subject: ${encodeHeaderWords(rendered.subject)}`,
    `Date: ${headers.date.toUTCString().replace("GMT", "+0000")}`,
    ...(headers.listId ? [`List-Id: ${headers.listId}`, "List-Unsubscribe-Post: List-Unsubscribe=One-Click"] : []),
    ...Object.entries(headers.extra ?? {}).map(([k, v]) => `${k}: ${v}`),
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ].join("\r\n");
  pieces.push(
    (v) =>
      `To: <${v.to}>\r\nMessage-ID: <${v.messageId}>\r\n${copy ? `${copy}: <${v.messageId}>\r\n` : ""}${v.unsubscribeUrl ? `List-Unsubscribe: <${v.unsubscribeUrl}>\r\n` : ""}`,
    [`${head}\r\n\r\n`, `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`],
  );
  pieces.push(...qpPieces(text, (v) => v, encodeLine));
  pieces.push([`\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`]);
  pieces.push(...qpPieces(html, escapeHtml, encodeLine));
  pieces.push([`\r\n--${boundary}--\r\n`]);

  // Every piece is 7-bit ASCII by now. Static ones are written into one buffer shared by all
  // recipients; adjacent ones become one view, so personalising is a handful of joins.
  let size = 0;
  for (const p of pieces) if (typeof p !== "function") for (const s of p) size += s.length;
  const backing = allocate(size);
  let offset = 0;
  const prepared: Prepared[] = [];
  let run = -1; // where the current run of static pieces starts; -1 after a slot
  for (const p of pieces) {
    if (typeof p === "function") {
      if (run >= 0) prepared.push(backing.subarray(run, offset));
      run = -1;
      prepared.push(p);
      continue;
    }
    if (run < 0) run = offset;
    for (const s of p) offset += backing.write(s, offset, "latin1");
  }
  if (run >= 0) prepared.push(backing.subarray(run, offset));
  return {
    backing,
    personalise(values) {
      // UTF-8: an internationalised address (RFC 6532) goes into the To header as it is.
      return prepared.map((p) => (typeof p === "function" ? Buffer.from(p(values), "utf8") : p));
    },
  };
}

/** Each marker with the recipient value that fills it. */
const SLOTS = new Map<string, (v: RecipientValues) => string>(
  MARKED.map(([mark, key]) => [mark, (v: RecipientValues) => (key === "recipient" ? v.to : (v[key] ?? ""))]),
);

/**
 * Splits text at the markers and quoted-printable encodes each part; slots end with
 * a soft break. `escape` makes a value safe for the part (HTML escaping in HTML).
 * The text comes in segments, encoded one after another as the joined text would be:
 * a shared block (a paper) is encoded once, the first time, and kept on the block.
 */
function qpPieces(segments: readonly Segment[], escape: (value: string) => string, encodeLine: (line: string) => string): Piece[] {
  const out: Piece[] = [];
  let run: string[] = []; // static output since the last slot
  let line = ""; // the line being written: its text so far, encoded once it ends
  let open = false; // the part since the last slot has text: it ends with a soft break
  const add = (e: EncodedSegment) => {
    open = true;
    line += e.first;
    if (!e.breaks) return;
    run.push(encodeLine(line), "\r\n");
    if (e.body) run.push(e.body);
    line = e.last;
  };
  for (const segment of segments) {
    // A block holding a recipient's marker (none does today) is read as text, slots and all.
    if (typeof segment !== "string" && (segment.qp !== undefined || !segment.text.includes("\uE000"))) {
      if (segment.text !== "") add((segment.qp ??= encodeSegment(segment.text, encodeLine)));
      continue;
    }
    for (const part of (typeof segment === "string" ? segment : segment.text).split(/(\uE000[a-zA-Z]+\uE000)/)) {
      const slot = SLOTS.get(part);
      if (!slot) {
        if (part !== "") add(encodeSegment(part, encodeLine));
        continue;
      }
      // A soft break after each static part lets the slot start its own line.
      if (open) run.push(encodeLine(line), "=\r\n");
      line = "";
      open = false;
      if (run.length > 0) out.push(run);
      run = [];
      out.push((v) => `${encodeQuotedPrintable(escape(slot(v)))}=\r\n`);
    }
  }
  if (open) run.push(encodeLine(line), "=\r\n");
  if (run.length > 0) out.push(run);
  return out;
}
