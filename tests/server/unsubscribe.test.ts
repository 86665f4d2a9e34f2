import { describe, expect, it } from "vitest";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { startSite } from "../helpers/site.js";

describe("unsubscribe links", () => {
  it("accept a signed token without any ledger lookup, refuse a forged one, and keep older random tokens working", async () => {
    const site = await startSite();
    const { addConfirmedReader: addSubscriber } = await import("../../src/subscribers/manage.js");
    const { resolveSecret } = await import("../../src/store/settings.js");
    const { hashToken, unsubscribeToken } = await import("../../src/util/tokens.js");
    addSubscriber(site.ctx.db, "ada@example.org", new Date().toISOString());
    addSubscriber(site.ctx.db, "old@example.org", new Date().toISOString());
    const secret = resolveSecret(site.ctx.db, site.ctx.config.secret);
    const token = unsubscribeToken(secret, 7, 1);
    const forged = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect((await site.post(`/unsubscribe/${forged}`, "List-Unsubscribe=One-Click")).status).toBe(404);
    expect((await site.post(`/unsubscribe/${token}`, "List-Unsubscribe=One-Click")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")!.status).toBe("unsubscribed");
    // A link in mail sent by an older version: a random token whose hash the ledger keeps.
    const { freezeEdition } = await import("../../src/digest/editions.js");
    await ingestFile(site.ctx, (await import("../helpers/files.js")).SAMPLE_FILES[0]!);
    const id = freezeEdition(site.ctx.db, { edition: "daily", maxPapers: 5, at: new Date().toISOString(), subject: () => "t", includeDemo: true })!;
    const random = "AbCdEfGhIjKlMnOpQrStUvWx";
    site.ctx.db.prepare("UPDATE deliveries SET unsubscribe_token_hash = ? WHERE digest_id = ? AND subscriber_id = 2").run(hashToken(secret, random), id);
    expect((await fetch(`${site.base}/unsubscribe/${random}`)).status).toBe(200);
    expect((await site.post(`/unsubscribe/${random}`, "")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "old@example.org")!.status).toBe("unsubscribed");
  });
});
