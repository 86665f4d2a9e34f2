import { findSubscriberById, setChoices } from "../../store/subscribers.js";
import { findByPreferencesToken } from "../../subscribers/subscribe.js";
import { postedChoices, sentChoices } from "../choice-form.js";
import { send } from "../http.js";
import { choicesView } from "../pages.js";
import { HTML, type AppDeps, type SitePages } from "../site-pages.js";
import type { Route } from "./route.js";

/** A reader's own page: topics, cadence, format, and unsubscribing. */
export function preferencesRoutes(deps: AppDeps, pages: SitePages): Route[] {
  return [
    {
      path: /^\/preferences\/([^/]+)$/,
      GET(_req, res, { url, params: [token] }) {
        const sub = findByPreferencesToken(deps, token!);
        if (!sub) return pages.notFound(res);
        send(res, 200, HTML, pages.preferencesPage(url.pathname, sub, choicesView(sub.choices)));
      },
      async POST(req, res, { url, params: [token] }) {
        const sub = findByPreferencesToken(deps, token!);
        if (!sub) return pages.notFound(res);
        const choices = await postedChoices(req);
        if (!choices.ok) {
          const shown = choices.sent ? sentChoices(choices.sent, sub.choices) : choicesView(sub.choices);
          return send(res, 400, HTML, pages.preferencesPage(url.pathname, sub, shown, choices.error));
        }
        setChoices(deps.db, sub.id, choices.choices);
        const saved = findSubscriberById(deps.db, sub.id)!;
        send(res, 200, HTML, pages.preferencesPage(url.pathname, saved, choicesView(saved.choices), undefined, true));
      },
    },
  ];
}
