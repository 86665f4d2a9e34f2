import type { ServerResponse } from "node:http";
import { parseFormChoices } from "../../model/choices.js";
import { findReaders, readerBounceEvents, readerDeliveries } from "../../store/console.js";
import { listConsentEvents } from "../../store/consent.js";
import { findSubscriberById, setChoices } from "../../store/subscribers.js";
import { removeReader } from "../../subscribers/manage.js";
import { choicesView } from "../pages.js";
import { displayTime } from "../../util/time.js";
import type { Session } from "./auth.js";
import type { ConsoleDeps, ConsoleKit, ConsoleRoute } from "./kit.js";

/** Readers: search, one reader's page (deliveries, bounces, consent), and changing their choices or status. */
export function readerRoutes(deps: ConsoleDeps, kit: ConsoleKit): ConsoleRoute[] {
  const { db } = deps;

  function readerPage(res: ServerResponse, s: Session, id: number, notice?: string, error?: string, status = 200): void {
    const reader = findSubscriberById(db, id);
    if (!reader) return kit.page(res, 404, "admin-readers", "Readers", { signedIn: true, csrf: s.csrf, readers: [], caption: "No such reader (forgotten?)" });
    kit.page(res, status, "admin-reader", reader.email, {
      signedIn: true,
      csrf: s.csrf,
      reader,
      choices: choicesView(reader.choices),
      deliveries: readerDeliveries(db, id, 50).map((d) => ({ ...d, at: displayTime(d.at) })),
      joined: displayTime(reader.createdAt),
      confirmed: displayTime(reader.confirmedAt),
      events: readerBounceEvents(db, id),
      consent: listConsentEvents(db, id).map((e) => ({ ...e, refused: e.outcome === "refused" })),
      suppressedByOperator: reader.suppressedBy === "operator",
      notice,
      error,
    });
  }

  return [
    {
      path: "/admin/readers",
      GET({ res, url, session }) {
        const q = (url.searchParams.get("q") ?? "").trim().slice(0, 200);
        const readers = findReaders(db, q, 100).map((r) => ({ ...r, createdAt: displayTime(r.createdAt) }));
        kit.page(res, 200, "admin-readers", "Readers", { signedIn: true, csrf: session.csrf, q, readers, caption: q ? `Readers whose address contains "${q}"` : "The newest readers" });
      },
    },
    { path: /^\/admin\/readers\/(\d{1,12})$/, GET: ({ res, session, params: [id] }) => readerPage(res, session, Number(id)) },
    {
      path: /^\/admin\/readers\/(\d{1,12})\/(choices|unsubscribe|forget)$/,
      POST({ req, res, session: s, form, at, params: [idText, action] }) {
        const id = Number(idText);
        const reader = findSubscriberById(db, id);
        if (!reader) return readerPage(res, s, id);
        if (action === "choices") {
          const parsed = parseFormChoices((name) => form.get(name));
          if (!parsed.ok) return readerPage(res, s, id, undefined, `${parsed.error}.`, 400);
          setChoices(db, id, parsed.choices);
          deps.log(`admin: ${kit.who(req)} changed the choices of ${reader.email}`);
          return readerPage(res, s, id, "Choices saved.");
        }
        const done = removeReader(db, reader, action === "forget", at);
        deps.log(`admin: ${kit.who(req)} ${done === "forgot" ? "forgot" : done === "kept" ? `asked to unsubscribe (stays ${reader.status})` : "unsubscribed"} ${reader.email}`);
        if (done === "forgot") return kit.redirect(res, "/admin/readers");
        const words = done === "unsubscribed" ? "Unsubscribed: no further digests." : done === "kept" ? `Stays ${reader.status}: that is stronger than an unsubscribe.` : "Already unsubscribed.";
        readerPage(res, s, id, words);
      },
    },
  ];
}
