import type { StoredPaper } from "../model/paper.js";
import { buildDigestView, type DigestLinks, type RenderOptions } from "./digest-view.js";
import { renderDigestText } from "./digest-text.js";
import { compileMjmlTemplate } from "./email-template.js";
import { quotedPrintableLengthBound } from "./quoted-printable.js";
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
 */
export async function renderDigest(subject: string, papers: readonly StoredPaper[], links: DigestLinks, options: RenderOptions = {}): Promise<RenderedDigest> {
  const template = await compileMjmlTemplate("digest");
  const budget = options.budgetBytes ?? HTML_BUDGET_BYTES;
  let abstractChars = ABSTRACT_CHARS;
  let shown = papers.length;
  for (;;) {
    const view = buildDigestView(subject, papers.slice(0, shown), papers[shown], papers.length - shown, abstractChars, links, options);
    const html = template(view);
    if ((html.length <= budget && quotedPrintableLengthBound(html) <= budget) || shown <= 1) return { subject, html, text: renderDigestText(view) };
    if (abstractChars > 160 && options.format !== "compact") abstractChars = Math.floor(abstractChars * 0.75);
    else shown = Math.max(1, Math.floor(shown * 0.8));
  }
}
