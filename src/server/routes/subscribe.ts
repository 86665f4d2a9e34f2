import { describeError } from "../../errors.js";
import { DEFAULT_CHOICES } from "../../model/choices.js";
import { confirmSubscription, findConfirmable, requestSubscription } from "../../subscribers/subscribe.js";
import { readChoices, postedChoices, sentChoices, SUBSCRIBE_FORM } from "../choice-form.js";
import { clientAddress, clientNetwork, createRateLimiter, readForm, send } from "../http.js";
import { renderNotice } from "../pages.js";
import { HTML, type AppDeps, type SitePages } from "../site-pages.js";
import type { Route } from "./route.js";

/** Form posts per client address in 15 minutes. */
const SUBSCRIBE_LIMIT = 5;

/** Subscribing (the form, then the confirmation link: double opt-in). */
export function subscribeRoutes(deps: AppDeps, pages: SitePages): Route[] {
  const { config } = deps;
  const log = deps.log ?? (() => undefined);
  const limiter = createRateLimiter(SUBSCRIBE_LIMIT, 15 * 60_000, () => deps.clock.now().getTime());
  const already = () => renderNotice(config, "You are already subscribed", "This link was used before: the digest already comes to your inbox. Every email has a one-click unsubscribe link.");

  return [
    {
      path: "/subscribe",
      async POST(req, res) {
        const parsed = SUBSCRIBE_FORM.safeParse(Object.fromEntries(await readForm(req)));
        if (!parsed.success) return send(res, 400, HTML, pages.homePage("", `That form is not valid: ${parsed.error.issues[0]!.message}.`));
        const form = parsed.data;
        const choices = readChoices(form);
        if (!choices.ok) return send(res, 400, HTML, pages.homePage(form.email, `${choices.error}.`, sentChoices(form, DEFAULT_CHOICES)));
        // A filled honeypot is a bot: it gets the usual answer and nothing happens.
        if (form.website) return send(res, 200, HTML, pages.checkInbox());
        const network = clientNetwork(clientAddress(req, config.trustProxy));
        if (!limiter.allow(network)) {
          return send(res, 429, HTML, renderNotice(config, "Slow down", "Too many subscription requests from your address. Try again in a few minutes."), { "Retry-After": "900" });
        }
        const result = requestSubscription(deps, form.email, choices.choices, network);
        if ("error" in result) return send(res, 400, HTML, pages.homePage(form.email, result.error, sentChoices(form, DEFAULT_CHOICES)));
        result.sending
          .then((r) => {
            if (r.status === "failed") log(`confirmation email not sent (the next request will try again): ${r.error}`);
            if (r.status === "recently sent") log("confirmation email not sent: this address had one recently (at most one a day and three in 30 days)");
            if (r.status === "client limit") log("confirmation email not sent: this client asked for too many today");
            // No address in the log: the answer and the log say the same whoever asked.
            if (r.status === "not pending" || r.status === "active") log("confirmation email not sent: the address is subscribed already, or may not be mailed");
            // Only the outbox gives the link: no mail leaves the machine, so a trial needs it here.
            if (r.status === "sent" && r.confirmUrl) log(`confirmation link (outbox): ${r.confirmUrl}`);
          })
          .catch((err) => log(`confirmation email: ${describeError(err)}`));
        send(res, 200, HTML, pages.checkInbox());
      },
    },
    {
      path: /^\/confirm\/([^/]+)$/,
      GET(_req, res, { url, params: [token] }) {
        const sub = findConfirmable(deps, token!);
        if (!sub) return pages.notFound(res);
        if (sub.status === "active") return send(res, 200, HTML, already());
        send(res, 200, HTML, pages.confirmPage(url.pathname, sub.choices));
      },
      async POST(req, res, { url, params: [token] }) {
        const choices = await postedChoices(req);
        if (!choices.ok) {
          const sub = findConfirmable(deps, token!);
          if (!sub) return pages.notFound(res);
          return send(res, 400, HTML, pages.confirmPage(url.pathname, sub.choices, choices.error));
        }
        const before = findConfirmable(deps, token!);
        const outcome = confirmSubscription(deps, token!, choices.choices);
        if (outcome === "not found" || !before) return pages.notFound(res);
        if (outcome === "already") return send(res, 200, HTML, already());
        send(res, 200, HTML, pages.subscribedPage("You are subscribed", before.id));
      },
    },
  ];
}
