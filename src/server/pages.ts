import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";

const PAGES_DIR = fileURLToPath(new URL("../../templates/pages/", import.meta.url));
const cache = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  let t = cache.get(name);
  if (!t) cache.set(name, (t = Handlebars.compile(readFileSync(`${PAGES_DIR}${name}.hbs`, "utf8"), { strict: false })));
  return t;
}

/** Site-wide links every page uses. */
export function siteLinks(config: Config) {
  return {
    siteUrl: `${config.publicUrl}/`,
    subscribeUrl: "/subscribe",
    digestsUrl: "/digests",
    feedUrl: `${config.publicUrl}/feed.xml`,
    atomUrl: `${config.publicUrl}/feed.atom`,
    jsonFeedUrl: `${config.publicUrl}/feed.json`,
  };
}

/** Renders templates/pages/NAME.hbs inside the layout; every value is HTML-escaped by Handlebars. */
export function renderPage(config: Config, name: string, title: string, data: Record<string, unknown>): string {
  const links = siteLinks(config);
  const body = template(name)({ ...links, ...data });
  return template("layout")({ ...links, title, body });
}

/** A page with a heading, a sentence and optionally one button that POSTs. */
export function renderNotice(config: Config, title: string, message: string, form?: { action: string; button: string }): string {
  return renderPage(config, "notice", title, { heading: title, message, action: form?.action, button: form?.button, back: !form });
}
