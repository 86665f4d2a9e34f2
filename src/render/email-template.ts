import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PapermailError } from "../errors.js";
import { PAPERS_MARK, sharedBlock, type SharedBlock } from "./paper-blocks.js";

const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

const compiled = new Map<string, Promise<HandlebarsTemplateDelegate>>();

/**
 * The templates' own Handlebars, with one helper: `{{#eachPaper papers block="full"}}`
 * writes each paper through its block like `each`, with @first, as a block shared by
 * every rendering that shows the same view of the paper (sharedBlock). A block sees
 * its paper and @first only: nothing of the rendering around it (no `../`, no @index),
 * for it is written once for all the groups of a send. Given `paperBlocks` in the
 * rendering's data, it hands the blocks over and leaves PAPERS_MARK in their place.
 */
const handlebars = Handlebars.create();
handlebars.registerHelper("eachPaper", function (this: unknown, papers: readonly object[], options: Handlebars.HelperOptions) {
  const kind = String(options.hash["block"] ?? "");
  const blocks = papers.map((paper, i) =>
    sharedBlock(paper, `html ${kind} ${i === 0 ? "first" : "next"}`, () => {
      const data = handlebars.createFrame(options.data ?? {});
      data.first = i === 0;
      return options.fn(paper, { data });
    }),
  );
  const sink = (options.data as { paperBlocks?: SharedBlock[] } | undefined)?.paperBlocks;
  if (!sink) return blocks.map((b) => b.text).join("");
  sink.push(...blocks);
  return PAPERS_MARK;
});

/** templates/NAME.mjml compiled with strict validation into an HTML template: once per process. */
export function compileMjmlTemplate(name: string): Promise<HandlebarsTemplateDelegate> {
  let template = compiled.get(name);
  if (!template) {
    template = (async () => {
      const source = readFileSync(`${TEMPLATES_DIR}${name}.mjml`, "utf8");
      let result;
      try {
        // MJML takes half a second to load: only commands that render pay for it, when they first do.
        const { default: mjml2html } = await import("mjml");
        // fonts: {} — MJML otherwise links Google Fonts for any font list naming Roboto or
        // Open Sans, and every open would tell Google the reader's address.
        result = await mjml2html(source, { validationLevel: "strict", filePath: TEMPLATES_DIR, fonts: {} });
      } catch (err) {
        throw new PapermailError("TEMPLATE", `templates/${name}.mjml: ${(err as Error).message}`, {}, { cause: err });
      }
      if (result.errors.length > 0) {
        const e = result.errors[0]!;
        throw new PapermailError("TEMPLATE", `templates/${name}.mjml:${e.line}: ${e.message}`);
      }
      // MJML indents generously; the indentation alone is a third of a digest's bytes.
      const html = result.html.replace(/\n[ \t]+/g, "\n").replace(/\n{2,}/g, "\n");
      return handlebars.compile(html);
    })();
    compiled.set(name, template);
  }
  return template;
}
