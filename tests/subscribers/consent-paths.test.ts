import { describe, expect, it } from "vitest";
import { processBounce } from "../../src/bounces/process.js";
import { publishDigests } from "../../src/digest/publish.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { resolveSecret } from "../../src/store/settings.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";
import { undoToken, unsubscribeToken } from "../../src/util/tokens.js";
import { arf, dsn } from "../helpers/bounce-messages.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { fakeClock, startSite } from "../helpers/site.js";

type Site = Awaited<ReturnType<typeof startSite>>;

/** A site whose readers got digest #1 through its real SMTP server; each reader's copy by address. */
async function mailedSite(readers: string[], options: Parameters<typeof startSite>[0] = {}) {
  const site = await startSite(options);
  for (const r of readers) addConfirmedReader(site.ctx.db, r, site.ctx.clock.now().toISOString());
  await ingestFile(site.ctx, SAMPLE_FILES[0]!);
  await publishDigests(site.ctx, { retryUnknown: false });
  const copies = new Map<string, string>();
  for (const m of site.smtp.received) copies.set(m.to[0]!, m.raw.toString("utf8"));
  return { ...site, copies };
}

const status = (site: Site, email: string) => findSubscriberByEmail(site.ctx.db, email)!.status;
const unsubscribePath = (raw: string) => /\/unsubscribe\/[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}/.exec(raw)![0];
const oneClick = (site: Site, path: string) => site.post(path, "List-Unsubscribe=One-Click");
const claims = (site: Site, email: string) =>
  (site.ctx.db.prepare("SELECT count(*) AS n FROM confirmation_sends c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email = ?").get(email) as { n: number }).n;
const undoPathIn = (html: string) => /action="(\/resubscribe\/[^"]+)"/.exec(html)?.[1];
const messageIdOf = (raw: string) => /^Message-ID: (<[^>]+>)/im.exec(raw)![1]!;

describe("a reader's consent: what links can and cannot do", () => {
  it("a complaint outlives every link: an old digest's unsubscribe changes nothing and no undo revives the reader", async () => {
    const site = await mailedSite(["ada@example.org"]);
    const copy = site.copies.get("ada@example.org")!;
    const complaint = await processBounce(site.ctx, Buffer.from(arf({ recipient: "ada@example.org", original: `Message-ID: ${messageIdOf(copy)}\r\nSubject: papers` })), "fbl.eml");
    expect(complaint.entries[0]).toMatchObject({ effect: "complained", proof: "message-id" });
    const link = unsubscribePath(copy);
    expect((await oneClick(site, link)).status).toBe(200);
    expect(status(site, "ada@example.org")).toBe("complained");
    // The page offers no undo, only the subscribe form (a confirmation is a fresh consent).
    const page = await (await fetch(site.base + link)).text();
    expect(undoPathIn(page)).toBeUndefined();
    // Neither the unsubscribe token nor any undo token signed for this reader brings them back.
    const sub = findSubscriberByEmail(site.ctx.db, "ada@example.org")!;
    await site.post(`/resubscribe/${link.split("/")[2]}`, "");
    await site.post(`/resubscribe/${undoToken(resolveSecret(site.ctx.db, site.ctx.config.secret), sub.id, new Date().toISOString())}`, "");
    expect(status(site, "ada@example.org")).toBe("complained");
    const recorded = site.ctx.db.prepare("SELECT event, outcome FROM consent_events WHERE subscriber_id = ? ORDER BY id").all(sub.id);
    expect(recorded).toContainEqual({ event: "unsubscribe", outcome: "same" });
  });

  it("the undo works once, for the reader's own latest unsubscribe, within 7 days; then the page offers the subscribe form", async () => {
    const clock = fakeClock();
    const site = await mailedSite(["ada@example.org", "bob@example.org", "cy@example.org"], { clock });
    // Ada: unsubscribe, undo, and the same undo again after a second unsubscribe: refused.
    const adaLink = unsubscribePath(site.copies.get("ada@example.org")!);
    const first = undoPathIn(await (await site.post(adaLink, "")).text())!;
    expect((await site.post(first, "")).status).toBe(200);
    expect(status(site, "ada@example.org")).toBe("active");
    clock.advance(1000);
    const second = undoPathIn(await (await site.post(adaLink, "")).text())!;
    expect(second).not.toBe(first);
    expect((await site.post(first, "")).status).toBe(409);
    expect(status(site, "ada@example.org")).toBe("unsubscribed");
    // Bob: eight days later the undo has expired; the page says so and offers the form.
    const bobUndo = undoPathIn(await (await site.post(unsubscribePath(site.copies.get("bob@example.org")!), "")).text())!;
    clock.advance(8 * 86400_000);
    const late = await site.post(bobUndo, "");
    expect(late.status).toBe(409);
    const text = await late.text();
    expect(text).toContain("the time to undo has passed");
    expect(text).toMatch(/<form class="subscribe" method="post" action="\/subscribe">/);
    expect(status(site, "bob@example.org")).toBe("unsubscribed");
    // Cy: removed by the operator; no link undoes that.
    expect((await runCli(["subscribers", "remove", "cy@example.org"], { cwd: site.cwd, env: site.env })).code).toBe(0);
    const cyLink = unsubscribePath(site.copies.get("cy@example.org")!);
    expect(undoPathIn(await (await fetch(site.base + cyLink)).text())).toBeUndefined();
    const cy = findSubscriberByEmail(site.ctx.db, "cy@example.org")!;
    await site.post(`/resubscribe/${undoToken(resolveSecret(site.ctx.db, site.ctx.config.secret), cy.id, cy.unsubscribedAt!)}`, "");
    await site.post(`/resubscribe/${cyLink.split("/")[2]}`, "");
    expect(status(site, "cy@example.org")).toBe("unsubscribed");
  });

  it("suppressions add always takes effect: reason and mark recorded whatever the status, no undo, no confirmation", async () => {
    const site = await mailedSite(["ada@example.org", "bob@example.org"], { env: { PAPERMAIL_TRUST_PROXY: "true" } });
    const undo = undoPathIn(await (await site.post(unsubscribePath(site.copies.get("ada@example.org")!), "")).text())!;
    const cli = (args: string[]) => runCli(args, { cwd: site.cwd, env: site.env });
    const added = await cli(["suppressions", "add", "ada@example.org", "bob@example.org", "--reason", "asked by phone"]);
    expect(added.stdout).toContain("suppressed ada@example.org (was unsubscribed)");
    expect(added.stdout).toContain("suppressed bob@example.org (was active)");
    const list = JSON.parse((await cli(["suppressions", "list", "--json"])).stdout) as Array<{ email: string; byOperator: boolean; reason: string }>;
    expect(list).toEqual([
      expect.objectContaining({ email: "ada@example.org", byOperator: true, reason: "asked by phone" }),
      expect.objectContaining({ email: "bob@example.org", byOperator: true, reason: "asked by phone" }),
    ]);
    expect((await site.post(undo, "")).status).toBe(409);
    expect(status(site, "ada@example.org")).toBe("unsubscribed");
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(claims(site, "ada@example.org")).toBe(0);
    // No mail of any kind: not even a test copy.
    const copy = await cli(["send-digest", "--to", "ada@example.org"]);
    expect(copy.code).toBe(2);
    expect(copy.stderr).toContain("on the suppression list by your decision");
    // Only the operator lifts it.
    expect((await cli(["suppressions", "remove", "ada@example.org"])).stdout).toContain("now pending");
  });

  it("nobody can mail-bomb an address: a forwarded digest and four client addresses get one confirmation out", async () => {
    const site = await mailedSite(["ada@example.org"], { env: { PAPERMAIL_TRUST_PROXY: "true" } });
    const link = unsubscribePath(site.copies.get("ada@example.org")!);
    const from = (client: string) =>
      fetch(site.base + "/subscribe", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": client }, body: "email=ada%40example.org" });
    for (let round = 0; round < 5; round++) {
      await oneClick(site, link);
      for (const client of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"]) expect((await from(client)).status).toBe(200);
    }
    expect(claims(site, "ada@example.org")).toBe(1);
    expect(await site.mailCount(2)).toBe(2); // the digest, and one confirmation
  });

  it("limits confirmations from one client to ten a day, over any addresses", async () => {
    const clock = fakeClock();
    const site = await startSite({ clock, env: { PAPERMAIL_TRUST_PROXY: "true" } });
    const from = (email: string, client: string) =>
      fetch(site.base + "/subscribe", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": client }, body: `email=${encodeURIComponent(email)}` });
    for (let i = 0; i < 12; i++) {
      // The form's own limit is 5 per 15 minutes: the confirmation limit is the daily one.
      if (i % 5 === 0) clock.advance(16 * 60_000);
      await from(`victim${i}@example.org`, i % 2 ? "2001:db8:1:2::7" : "2001:db8:1:2::99");
    }
    const sent = (site.ctx.db.prepare("SELECT count(*) AS n FROM confirmation_sends").get() as { n: number }).n;
    expect(sent).toBe(10);
    expect(site.logs.filter((l) => l.includes("this client asked for too many today"))).toHaveLength(2);
  });

  it("a returning reader comes back by the form and its confirmation; a complainer too, but never by an undo", async () => {
    const clock = fakeClock();
    const site = await mailedSite(["ada@example.org", "bob@example.org"], { clock });
    await oneClick(site, unsubscribePath(site.copies.get("ada@example.org")!));
    await processBounce(site.ctx, Buffer.from(arf({ recipient: "bob@example.org", original: `Message-ID: ${messageIdOf(site.copies.get("bob@example.org")!)}` })), "fbl.eml");
    expect(status(site, "bob@example.org")).toBe("complained");
    for (const email of ["ada@example.org", "bob@example.org"]) {
      const before = site.smtp.received.length;
      await site.post("/subscribe", { email });
      await site.mailCount(before + 1);
      const mail = await site.smtp.parse(site.smtp.received[before]!);
      const confirm = /\/confirm\/[A-Za-z0-9_-]+/.exec(mail.text!)![0];
      // Until the click nothing changes.
      expect(status(site, email)).not.toBe("active");
      expect((await site.post(confirm, {})).status).toBe(200);
      expect(status(site, email)).toBe("active");
    }
  });

  it("an unsubscribe voids a confirmation sent before it", async () => {
    const site = await mailedSite(["ada@example.org"]);
    await oneClick(site, unsubscribePath(site.copies.get("ada@example.org")!));
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(2);
    const confirm = /\/confirm\/[A-Za-z0-9_-]+/.exec((await site.smtp.parse(site.smtp.received[1]!)).text!)![0];
    // Someone holding a forwarded copy unsubscribes again before the reader clicks.
    await oneClick(site, unsubscribePath(site.copies.get("ada@example.org")!));
    expect((await site.post(confirm, {})).status).toBe(404);
    expect(status(site, "ada@example.org")).toBe("unsubscribed");
  });
});

describe("proof for complaints and soft bounces", () => {
  it("a complaint proven only by a forwarded copy's unsubscribe link is an unsubscribe, not a complaint", async () => {
    const site = await mailedSite(["ada@example.org"]);
    const link = unsubscribePath(site.copies.get("ada@example.org")!);
    // Someone Ada forwarded the digest to reports it: the forward carries her link, not our Message-ID.
    const forwarded = `Message-ID: <fwd.1@mail.example.com>\r\nSubject: Fwd: papers\r\nList-Unsubscribe: <${site.base}${link}>\r\n\r\nforwarded`;
    const r = await processBounce(site.ctx, Buffer.from(arf({ recipient: "friend@example.com", original: forwarded })), "fbl.eml");
    expect(r.entries[0]).toMatchObject({ proof: "unsubscribe-link", effect: "unsubscribed" });
    expect(status(site, "ada@example.org")).toBe("unsubscribed");
  });

  it("counts soft bounces once per message sent: three copies of one report are one soft bounce", async () => {
    const site = await mailedSite(["ada@example.org"], { env: { PAPERMAIL_BOUNCE_ADDRESS: "bounces@example.org" } });
    const verp = site.smtp.received.find((m) => m.to[0] === "ada@example.org")!.from;
    const outcomes = [];
    for (const i of [1, 2, 3]) outcomes.push(await processBounce(site.ctx, Buffer.from(dsn({ to: verp, recipient: "ada@example.org", status: "4.2.2", messageId: `<copy${i}@mx.example.net>` })), `${i}.eml`));
    expect(outcomes.map((o) => o.entries[0]!.effect)).toEqual(["soft-counted", "soft-counted", "soft-counted"]);
    expect(outcomes[2]!.entries[0]!.note).toMatch(/^1 of 3 soft bounces/);
    expect(status(site, "ada@example.org")).toBe("active");
  });
});

describe("unsubscribe tokens", () => {
  it("an unsubscribe link names a digest and a reader, signed; a forged one is refused", async () => {
    const site = await mailedSite(["ada@example.org"]);
    const sub = findSubscriberByEmail(site.ctx.db, "ada@example.org")!;
    const forged = unsubscribeToken("x".repeat(40), 1, sub.id);
    expect((await oneClick(site, `/unsubscribe/${forged}`)).status).toBe(404);
    expect(status(site, "ada@example.org")).toBe("active");
  });
});
