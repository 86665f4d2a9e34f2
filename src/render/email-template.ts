import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PapermailError } from "../errors.js";

const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

const compiled = new Map<string, Promise<HandlebarsTemplateDelegate>>();

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
      return Handlebars.compile(html);
    })();
    compiled.set(name, template);
  }
  return template;
}
