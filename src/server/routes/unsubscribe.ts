import { preferencesLink } from "../../render/links.js";
import { resolveSecret } from "../../store/settings.js";
import { findSubscriberById } from "../../store/subscribers.js";
import { findUnsubscribable, readUndoLink, undoUnsubscribeByToken, unsubscribeByToken } from "../../subscribers/subscribe.js";
import { isOneClickBody, readBody, send } from "../http.js";
import { renderNotice } from "../pages.js";
import { HTML, type AppDeps, type SitePages } from "../site-pages.js";
import type { Route } from "./route.js";

/** Unsubscribing (RFC 8058 one-click too) and its one-time undo. */
export function unsubscribeRoutes(deps: AppDeps, pages: SitePages): Route[] {
  const { config } = deps;
  const log = deps.log ?? (() => undefined);

  return [
    {
      path: /^\/unsubscribe\/([^/]+)$/,
      GET(_req, res, { url, params: [token] }) {
        const id = findUnsubscribable(deps, token!);
        if (id === undefined) return pages.notFound(res);
        // A used link says so, with the way back, rather than offering a button that does nothing.
        const sub = findSubscriberById(deps.db, id);
        if (sub && sub.status !== "active" && sub.status !== "pending") return send(res, 200, HTML, pages.unsubscribedPage(sub, true));
        // Someone who gets too much may prefer less of it to nothing.
        const preferences = preferencesLink(config, resolveSecret(deps.db, config.secret), id);
        send(
          res,
          200,
          HTML,
          renderNotice(config, "Unsubscribe", "You are still subscribed. Press the button to stop every digest to this address; you can undo it for a while after.", {
            action: url.pathname,
            button: "Unsubscribe",
            aside: { text: "Too much mail?", link: "Get it weekly, or only your topics, instead", url: preferences },
          }),
        );
      },
      async POST(req, res, { params: [token] }) {
        const oneClick = isOneClickBody(await readBody(req));
        const id = findUnsubscribable(deps, token!);
        if (id === undefined || !(await unsubscribeByToken(deps, token!))) return pages.notFound(res);
        if (oneClick) return send(res, 200, "text/plain; charset=utf-8", "Unsubscribed.\n");
        send(res, 200, HTML, pages.unsubscribedPage(findSubscriberById(deps.db, id)!, false));
      },
    },
    {
      path: /^\/resubscribe\/([^/]+)$/,
      GET(_req, res, { params: [token] }) {
        const link = readUndoLink(deps, token!);
        if (!link) return pages.notFound(res);
        // GETs never change state: a link scanner opening this page undoes nothing.
        const sub = link.subscriber;
        if (sub.status === "active") return send(res, 200, HTML, pages.subscribedPage("You are subscribed", sub.id));
        send(res, 200, HTML, pages.unsubscribedPage(sub, true));
      },
      POST(_req, res, { params: [token] }) {
        const undone = undoUnsubscribeByToken(deps, token!);
        if (undone.outcome === "not found") return pages.notFound(res);
        if (undone.outcome === "cannot") {
          const why = `The undo works once, for your own latest unsubscribe, for ${config.undoDays} days: ${undone.why}. To get the digest again, subscribe: we send a confirmation link first.`;
          return send(res, 409, HTML, renderNotice(config, "This unsubscribe cannot be undone here", why, { subscribe: { email: pages.canSubscribeAgain(undone.subscriber) ? undone.subscriber.email : "" } }));
        }
        log(`resubscribed: subscriber #${undone.subscriber.id} took back their unsubscribe`);
        send(res, 200, HTML, pages.subscribedPage("You are subscribed again", undone.subscriber.id));
      },
    },
  ];
}
