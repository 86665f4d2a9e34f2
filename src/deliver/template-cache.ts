import type { Config } from "../config/load.js";
import { digestContent, groupContent, type SharedContent } from "../digest/content.js";
import { renderDigestMessage, type DigestContent } from "../render/digest-message.js";
import { buildMessageTemplate, type MessageTemplate, type TemplateOptions } from "../render/mime.js";
import { memoizedQpLines } from "../render/quoted-printable.js";
import type { Db } from "../store/db.js";

/** Renderings a sender keeps at once: claims take one group's rows after another, so a few suffice. */
const TEMPLATES_KEPT = 8;

/**
 * Renders one group of a frozen digest (its readers' papers, format and footer)
 * and prepares its message for personalising. Group 0 is the whole digest.
 */
export async function prepareDigestMessage(
  db: Db,
  config: Config,
  digestId: number,
  groupNo = 0,
  shared?: { content: () => DigestContent; group: SharedContent; template: TemplateOptions },
): Promise<MessageTemplate> {
  const content = shared ? shared.content() : digestContent(db, digestId);
  const message = await renderDigestMessage(config, content, groupNo === 0 ? undefined : groupContent(db, digestId, groupNo, shared?.group));
  return buildMessageTemplate(message, message.headers, shared?.template);
}

/** One group's rendering, and how many of its messages are being sent. */
export interface Kept {
  template: Promise<MessageTemplate>;
  inFlight: number;
  evicted: boolean;
}

/**
 * The renderings of one send: each group is rendered when its first reader is
 * claimed; the least recently used are let go. Their buffers are reused once no
 * message of theirs is in flight: a run over many groups then holds a few
 * renderings' worth of memory, not whatever the garbage collector has not collected yet.
 */
export function createTemplateCache(db: Db, config: Config, digestId: number) {
  const kept = new Map<number, Kept>();
  const spare: Buffer[] = [];
  // The digest and the papers of its groups are read once per send, not once per group.
  let content: DigestContent | undefined;
  const allocate = (bytes: number): Buffer => {
    const i = spare.findIndex((b) => b.length >= bytes);
    if (i >= 0) return spare.splice(i, 1)[0]!;
    // Headroom, so a buffer fits the next group's rendering too.
    return Buffer.allocUnsafeSlow(Math.max(bytes + (bytes >> 2), 160 * 1024));
  };
  // Groups share nearly every line of their messages: each is encoded once per send.
  const shared = {
    content: () => (content ??= digestContent(db, digestId)),
    group: { papers: new Map(), ranks: new Map() } satisfies SharedContent,
    template: { allocate, encodeLine: memoizedQpLines() },
  };
  const recycle = (entry: Kept): void => {
    if (!entry.evicted || entry.inFlight > 0) return;
    entry.template.then(
      (t) => {
        if (spare.length < TEMPLATES_KEPT) spare.push(t.backing);
      },
      () => undefined,
    );
  };
  return {
    /** The rendering of a group, made on first use; the caller counts its message in flight. */
    templateFor(groupNo: number): Kept {
      let entry = kept.get(groupNo);
      if (entry) kept.delete(groupNo);
      else entry = { template: prepareDigestMessage(db, config, digestId, groupNo, shared), inFlight: 0, evicted: false };
      kept.set(groupNo, entry);
      if (kept.size > TEMPLATES_KEPT) {
        const [oldest, old] = kept.entries().next().value!;
        kept.delete(oldest);
        old.evicted = true;
        recycle(old);
      }
      return entry;
    },
    /** A message of this rendering is done with: its buffer may be reused once it is let go. */
    release(entry: Kept): void {
      entry.inFlight--;
      recycle(entry);
    },
  };
}
