import type { ServerResponse } from "node:http";
import type { Config } from "../config/load.js";
import type { Mailer } from "../deliver/transport/mailer.js";
import type { Metrics } from "../metrics/registry.js";
import { DEFAULT_CHOICES, describeChoices, type ReaderChoices } from "../model/choices.js";
import { preferencesLink } from "../render/links.js";
import type { Db } from "../store/db.js";
import { newestDigestId } from "../store/digests.js";
import { resolveSecret } from "../store/settings.js";
import { findSubscriberById, type Subscriber } from "../store/subscribers.js";
import { undoLink } from "../subscribers/subscribe.js";
import { unsubscribeToken } from "../util/tokens.js";
import type { Clock } from "../util/time.js";
import { send } from "./http.js";
import { choicesView, renderNotice, renderPage } from "./pages.js";
import { archiveEntries, latestTopPapers } from "./reader-pages.js";
import { firstEmail } from "./subscription-words.js";

export interface AppDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** Where confirmation emails go; the configured transport when omitted. */
  mailer?: Mailer;
  log?: (line: string) => void;
  /** The process's metrics: answers are counted, and /metrics serves them when PAPERMAIL_METRICS_TOKEN is set. */
  metrics?: Metrics;
}

export const HTML = "text/html; charset=utf-8";
/** Pages the same for everyone: caches may keep them a while. */
export const PUBLIC = { "Cache-Control": "public, max-age=300" };

/** The site's pages that more than one route shows, built from the reader's current state. */
export type SitePages = ReturnType<typeof createSitePages>;

export function createSitePages(deps: AppDeps) {
  const { config } = deps;
  // The address is shown in the form only where the form could mail it: an address the operator suppressed gets nothing.
  const canSubscribeAgain = (sub: Subscriber) => sub.suppressedBy !== "operator";
  const secret = () => resolveSecret(deps.db, config.secret);

  function homePage(email = "", error?: string, choices?: ReturnType<typeof choicesView>): string {
    return renderPage(config, "home", "Get trending papers in your email inbox", {
      digests: archiveEntries(deps.db, 10),
      latest: latestTopPapers(config, deps.db),
      email,
      error,
      choices: choices ?? choicesView(DEFAULT_CHOICES, "s"),
      choicesOpen: Boolean(choices),
    });
  }

  // The front page is the same for everyone until a new digest is published: rendered once per digest.
  // Kept as bytes: the busiest page is encoded once per digest, not once per request.
  let home: { newest: number; html: Buffer } | undefined;
  function plainHomePage(): Buffer {
    const newest = newestDigestId(deps.db);
    if (home?.newest !== newest) home = { newest, html: Buffer.from(homePage()) };
    return home.html;
  }

  return {
    canSubscribeAgain,
    homePage,
    plainHomePage,

    notFound(res: ServerResponse): void {
      send(res, 404, HTML, renderNotice(config, "Link not found", "This link is not valid, has expired, or was already used."));
    },

    checkInbox(): string {
      return renderNotice(config, "Check your inbox", "If that address is not subscribed yet, a confirmation link is on its way. Click it to start getting the digest.");
    },

    confirmPage(action: string, choices: ReaderChoices, error?: string): string {
      return renderNotice(config, "Confirm your subscription", "One more click and trending papers arrive in your inbox.", { action, button: "Confirm subscription", choices, error });
    },

    preferencesPage(action: string, sub: Subscriber, choices: ReturnType<typeof choicesView>, error?: string, saved = false): string {
      return renderPage(config, "preferences", "Your digest", {
        action,
        // The same signed link as in an email (digest 0: from this page): unsubscribing works here too.
        unsubscribeAction: sub.status === "active" || sub.status === "pending" ? `/unsubscribe/${unsubscribeToken(secret(), 0, sub.id)}` : null,
        email: sub.email,
        inactive: sub.status !== "active" && sub.status !== "pending",
        choices,
        error,
        saved,
        cadence: sub.choices.cadence,
      });
    },

    /** "You are subscribed": what they get, when the first email comes, where to change it. */
    subscribedPage(title: string, id: number): string {
      const sub = findSubscriberById(deps.db, id)!;
      const preferences = preferencesLink(config, secret(), id);
      return renderNotice(config, title, `You will get ${describeChoices(sub.choices)}. ${firstEmail(config, sub.choices.cadence, deps.clock.now())} Every email has a one-click unsubscribe link.`, {
        aside: { text: "Want something else?", link: "Change topics, daily or weekly, format", url: preferences },
      });
    },

    /**
     * "You are unsubscribed" (or already were): with a one-click undo (a signed POST)
     * while the reader's own latest unsubscribe can still be undone, else the subscribe
     * form (double opt-in).
     */
    unsubscribedPage(sub: Subscriber, already: boolean): string {
      const title = already ? "You are already unsubscribed" : "You are unsubscribed";
      const stopped = sub.status === "unsubscribed" ? "no further digests come to this address" : "no further digests come to this address (mail to it bounced or was reported)";
      const opening = `${already ? "This link was used before: " : ""}${stopped[0]!.toUpperCase()}${stopped.slice(1)}.`;
      const undo = undoLink(deps, sub);
      if (undo) {
        return renderNotice(config, title, `${opening} Changed your mind? You can undo this for ${config.undoDays} days.`, { action: undo, button: "Undo: keep getting the digest" });
      }
      return renderNotice(config, title, `${opening} To get the digest again, subscribe: we send a confirmation link first.`, {
        subscribe: { email: canSubscribeAgain(sub) ? sub.email : "" },
      });
    },
  };
}
