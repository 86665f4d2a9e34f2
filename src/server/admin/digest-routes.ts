import type { ServerResponse } from "node:http";
import { sendTestCopy } from "../../deliver/test-copy.js";
import { digestContent } from "../../digest/content.js";
import { checkAddress } from "../../model/address.js";
import { renderDigestMessage } from "../../render/digest-message.js";
import { mailRefusal } from "../../store/consent.js";
import { findDigest, listDigests } from "../../store/digests.js";
import { displayTime } from "../../util/time.js";
import type { Session } from "./auth.js";
import type { ConsoleDeps, ConsoleKit, ConsoleRoute } from "./kit.js";

/** Digests: the list, and a test copy of one sent to an address. */
export function digestRoutes(deps: ConsoleDeps, kit: ConsoleKit): ConsoleRoute[] {
  const { db, config } = deps;

  function digestsPage(res: ServerResponse, s: Session, notice?: string, error?: string, status = 200): void {
    kit.page(res, status, "admin-digests", "Digests", { signedIn: true, csrf: s.csrf, digests: listDigests(db, 100).map((d) => ({ ...d, createdAt: displayTime(d.createdAt) })), notice, error });
  }

  return [
    { path: "/admin/digests", GET: ({ res, session }) => digestsPage(res, session) },
    {
      path: /^\/admin\/digests\/(\d{1,9})\/test$/,
      async POST({ req, res, session: s, form, params: [id] }) {
        const digest = findDigest(db, Number(id));
        const check = checkAddress(form.get("to") ?? "");
        if (!digest) return digestsPage(res, s, undefined, "No such digest.", 404);
        if (!check.ok) return digestsPage(res, s, undefined, `That address ${check.reason}.`, 400);
        const refusal = mailRefusal(db, check.address);
        if (refusal) return digestsPage(res, s, undefined, `Not sent: ${refusal}.`, 409);
        // The very message a reader of the whole digest gets: the one function every path uses.
        const message = await renderDigestMessage(config, digestContent(db, digest.id));
        const { outcome, mail } = await sendTestCopy(config, message, check.address, deps.clock.now());
        deps.log(`admin: ${kit.who(req)} sent a test copy of digest #${digest.id} to ${check.address}: ${outcome.status}`);
        if (outcome.status !== "sent") return digestsPage(res, s, undefined, `The test copy was not sent (${outcome.status}): ${outcome.error}`, 502);
        digestsPage(res, s, `Sent a test copy of digest #${digest.id} to ${check.address} via ${mail}.`);
      },
    },
  ];
}
