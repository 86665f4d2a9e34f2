import { textOf, walk, type MimeEntity } from "../mime-parts.js";

/** How much of a text bounce's explanation is read. */
const EXPLANATION_LIMIT = 8 * 1024;

/** The human-readable text of a report: its first text part outside any attached message, up to the returned message. */
export function explanationOf(root: MimeEntity): string {
  for (const entity of walk(root)) {
    if (entity.parts.length > 0 && !entity.type.startsWith("message/")) continue;
    if (entity.type === "text/plain" || entity.type === "text/html") {
      let text = textOf(entity).slice(0, EXPLANATION_LIMIT * 4);
      if (entity.type === "text/html") text = htmlText(text);
      return cutAtOriginal(text).slice(0, EXPLANATION_LIMIT);
    }
    if (entity.type.startsWith("message/")) break;
  }
  return "";
}

/**
 * The words of an HTML bounce: tags, styles and scripts dropped, a few entities undone.
 * One pass with native searches, so that unclosed tags and styles cost no rescans.
 */
export function htmlText(html: string): string {
  const lower = html.toLowerCase();
  let out = "";
  let at = 0;
  while (at < html.length) {
    const lt = html.indexOf("<", at);
    if (lt === -1) {
      out += html.slice(at);
      break;
    }
    out += html.slice(at, lt) + " ";
    const gt = html.indexOf(">", lt + 1);
    if (gt === -1) break; // An unclosed tag: the rest is markup.
    const name = /^<(style|script)\b/.exec(lower.slice(lt, lt + 8))?.[1];
    if (name) {
      const close = lower.indexOf(`</${name}`, gt + 1);
      if (close === -1) break;
      const end = html.indexOf(">", close);
      at = end === -1 ? html.length : end + 1;
    } else at = gt + 1;
  }
  return out.replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Where a bounce starts quoting the returned message: what follows is ours, not the server's words. */
const ORIGINAL_MARKERS = [
  /^-+ ?(this is a copy of|original message|below this line|the original message|start of returned message|returned message|message headers follow|original message headers|headers of the original)/im,
  /^-+[ \t]*(original|returned) (message|mail|headers)/im,
  /^(original message follows|the original message was received at|the message that caused this notification was:|below is a copy of the message|[ \t]*----- transcript of session follows -----)/im,
  /^(Received|Return-Path|DKIM-Signature|Message-ID|X-Papermail-Digest|List-Unsubscribe): /im,
  // Spaces, never line breaks, before a marker: a run of blank lines must not be rescanned from every line.
  /^[ \t]*(message headers follow|original message headers|the headers of your message|your message reads \(in part\))/im,
  /^>[ \t]*(Received|Return-Path|X-[A-Za-z-]+|Message-ID): /im,
];

function cutAtOriginal(text: string): string {
  let end = text.length;
  for (const marker of ORIGINAL_MARKERS) {
    const m = marker.exec(text);
    // The transcript of a session is the server's words: kept.
    if (m && !/transcript of session/i.test(m[0]) && m.index < end && m.index > 0) end = m.index;
  }
  return text.slice(0, end);
}
