import Handlebars from "handlebars";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/load.js";
import { DEFAULT_CHOICES, type ReaderChoices } from "../model/choices.js";

const PAGES_DIR = fileURLToPath(new URL("../../templates/pages/", import.meta.url));
const cache = new Map<string, HandlebarsTemplateDelegate>();

/** Templates other pages include: the choices form, a paper card, its links, the digest pager. */
const PARTIALS = ["choices", "paper", "links", "pager", "admin-chart"];

function template(name: string): HandlebarsTemplateDelegate {
  if (cache.size === 0) for (const partial of PARTIALS) Handlebars.registerPartial(partial, readFileSync(`${PAGES_DIR}${partial}.hbs`, "utf8"));
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
    searchUrl: "/search",
    feedUrl: `${config.publicUrl}/feed.xml`,
    atomUrl: `${config.publicUrl}/feed.atom`,
    jsonFeedUrl: `${config.publicUrl}/feed.json`,
  };
}

/**
 * Renders templates/pages/NAME.hbs inside the layout; every value is HTML-escaped by
 * Handlebars (only values named *Html are markup, built by paper-view.ts from escaped text).
 */
export function renderPage(config: Config, name: string, title: string, data: Record<string, unknown>, layout = "layout"): string {
  const links = siteLinks(config);
  const body = template(name)({ ...links, ...data });
  return template(layout)({ ...links, title, body, query: data.query, csrf: data.csrf, signedIn: data.signedIn });
}

/**
 * A page with a heading, a sentence, optionally one button that POSTs (with the
 * reader's choices, when given), the subscribe form (double opt-in) and a link aside.
 */
export function renderNotice(
  config: Config,
  title: string,
  message: string,
  form?: { action?: string; button?: string; choices?: ReaderChoices; error?: string; aside?: { text: string; link: string; url: string }; subscribe?: { email: string } },
): string {
  return renderPage(config, "notice", title, {
    heading: title,
    message,
    action: form?.action,
    button: form?.button,
    choices: form?.choices && choicesView(form.choices),
    error: form?.error,
    aside: form?.aside,
    subscribe: form?.subscribe,
    back: !form?.action && !form?.subscribe,
  });
}

/** How many "Also trending" papers the form offers. */
const ALSO_OPTIONS = [0, 3, 5, 10];

/** A reader's choices as the choices form shows them. */
export function choicesView(c: Partial<Record<keyof ReaderChoices, unknown>> & Pick<ReaderChoices, "cadence" | "format">, id = "c") {
  return {
    id,
    daily: c.cadence === "daily",
    weekly: c.cadence === "weekly",
    full: c.format === "full",
    compact: c.format === "compact",
    topics: Array.isArray(c.topics) ? c.topics.join(", ") : String(c.topics ?? ""),
    minUpvotes: String(c.minUpvotes ?? 0),
    also: ALSO_OPTIONS.map((n) => ({ value: n, label: n === 0 ? "None" : `The top ${n}`, selected: String(n) === String(c.alsoTrending ?? DEFAULT_CHOICES.alsoTrending) })),
  };
}
