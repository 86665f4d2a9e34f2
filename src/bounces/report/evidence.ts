import { findAddresses, textOf, walk, type MimeEntity } from "../mime-parts.js";
import type { ReportEvidence } from "./entry.js";
import { fieldBlocks } from "./fields.js";

/** The headers of the returned message (message/rfc822, text/rfc822-headers), when attached. */
export function originalHeaders(root: MimeEntity): Map<string, string[]> | undefined {
  for (const entity of walk(root)) {
    if ((entity.type === "message/rfc822" || entity.type === "message/global") && entity.parts[0]) return entity.parts[0].headers;
    if (entity.type === "text/rfc822-headers" || entity.type === "message/global-headers") return fieldBlocks(textOf(entity))[0];
  }
  return undefined;
}

/** VERP addresses, Message-IDs and unsubscribe links: what may prove that a report answers our mail. */
export function gatherEvidence(root: MimeEntity): ReportEvidence {
  const envelope = ["to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to", "cc"].flatMap((h) =>
    (root.headers.get(h) ?? []).flatMap((v) => findAddresses(v, 10)),
  );
  const messageIds = [...(root.headers.get("in-reply-to") ?? []), ...(root.headers.get("references") ?? [])].flatMap(messageIdsIn);
  const unsubscribeTokens: string[] = [];
  for (const entity of walk(root, true)) {
    if (entity === root) continue;
    for (const v of entity.headers.get("message-id") ?? []) messageIds.push(...messageIdsIn(v));
    for (const v of entity.headers.get("list-unsubscribe") ?? []) unsubscribeTokens.push(...unsubscribeTokensIn(v));
    if (entity.type === "text/rfc822-headers" || entity.type === "message/global-headers" || entity.type.startsWith("text/")) {
      const text = entity.body.slice(0, 1024 * 1024);
      for (const m of text.matchAll(/^Message-ID:[ \t]*(<[^<>\r\n]{1,250}>)/gim)) messageIds.push(m[1]!);
      unsubscribeTokens.push(...unsubscribeTokensIn(text));
    }
  }
  return { envelope, messageIds: [...new Set(messageIds)].slice(0, 50), unsubscribeTokens: [...new Set(unsubscribeTokens)].slice(0, 50) };
}

/**
 * The Message-IDs in a header value: each `<...>`, or the whole (short) value when it
 * is one bare id. Only the first 4 KB is read, and nothing is matched against the whole
 * value: a References header may be as long as its block.
 */
export function messageIdsIn(value: string): string[] {
  const head = value.slice(0, 4096);
  const ids = [...head.matchAll(/<([^<>\s]{1,250})>/g)].map((m) => `<${m[1]}>`);
  const bare = head.trim();
  if (ids.length === 0 && bare.length <= 250 && /^[^<>\s@]+@[^<>\s@]+$/.test(bare)) ids.push(`<${bare}>`);
  return ids;
}

/** Tokens of our signed unsubscribe links (DIGEST.SUBSCRIBER.MAC), soft line breaks of quoted-printable undone. */
export function unsubscribeTokensIn(text: string): string[] {
  const tokens: string[] = [];
  for (let at = text.indexOf("/unsubscribe/"); at !== -1 && tokens.length < 20; at = text.indexOf("/unsubscribe/", at + 1)) {
    const window = text.slice(at + 13, at + 13 + 120).replace(/=\r?\n/g, "");
    const m = /^([0-9a-z]{1,11}\.[0-9a-z]{1,11}\.[A-Za-z0-9_-]{22})/.exec(window);
    if (m) tokens.push(m[1]!);
  }
  return tokens;
}
