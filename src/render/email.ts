import type { StoredPaper } from "../model/paper.js";
import { buildDigestView, type DigestLinks, type RenderOptions } from "./digest-view.js";
import { digestTextSegments } from "./digest-text.js";
import { compileMjmlTemplate } from "./email-template.js";
import { joinSegments, PAPERS_MARK, segmentsQpBound, type Segment, type SharedBlock } from "./paper-blocks.js";
import type { RenderedDigest } from "./recipient-marks.js";

/** Abstract length in the email; the rest is a "Read more" away. Keeps typical digests far below Gmail's 102 KB clip. */
const ABSTRACT_CHARS = 320;
/**
 * HTML budget, counted as sent (quoted-printable): Gmail clips a message whose HTML
 * passes 102 KB; 95 KB keeps a margin for the recipient's own links and the client's
 * additions. Over it, the email trims abstracts, then moves papers to the web page.
 */
export const HTML_BUDGET_BYTES = 95 * 1024;

/**
 * Renders a digest's email once: HTML through the compiled template (Handlebars
 * escapes every value) and the plain-text part, from one view. Trims abstracts
 * further, then moves papers to the web archive, until the HTML fits the budget.
 * Each paper's block is shared with the other renderings that show it alike.
 */
export async function renderDigest(subject: string, papers: readonly StoredPaper[], links: DigestLinks, options: RenderOptions = {}): Promise<RenderedDigest> {
  const template = await compileMjmlTemplate("digest");
  const budget = options.budgetBytes ?? HTML_BUDGET_BYTES;
  let abstractChars = ABSTRACT_CHARS;
  let shown = papers.length;
  for (;;) {
    const view = buildDigestView(subject, papers.slice(0, shown), papers[shown], papers.length - shown, abstractChars, links, options);
    // The template's eachPaper leaves PAPERS_MARK where the papers' blocks go, and hands the blocks over.
    const blocks: SharedBlock[] = [];
    const frame = template(view, { data: { paperBlocks: blocks } });
    const at = frame.indexOf(PAPERS_MARK);
    const html: Segment[] = at < 0 ? [frame] : [frame.slice(0, at), ...blocks, frame.slice(at + PAPERS_MARK.length)];
    let length = 0;
    for (const s of html) length += typeof s === "string" ? s.length : s.text.length;
    if ((length <= budget && segmentsQpBound(html) <= budget) || shown <= 1) {
      const text = digestTextSegments(view);
      return { subject, html: joinSegments(html), text: joinSegments(text), segments: { html, text } };
    }
    if (abstractChars > 160 && options.format !== "compact") abstractChars = Math.floor(abstractChars * 0.75);
    else shown = Math.max(1, Math.floor(shown * 0.8));
  }
}
