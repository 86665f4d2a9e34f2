import { describe, expect, it } from "vitest";
import { publishDigests } from "../../src/digest/publish.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { fakeClock, startSite } from "../helpers/site.js";

function linkIn(text: string, kind: "confirm" | "unsubscribe"): string {
  const m = new RegExp(`https?://[^\\s"<>]+/${kind}/[A-Za-z0-9_.-]+`).exec(text);
  if (!m) throw new Error(`no ${kind} link in:\n${text}`);
  return m[0];
}

describe("subscribing on the web", () => {
  it("subscribe -> confirmation mail -> confirm -> next digest arrives -> one-click unsubscribe -> nothing more", async () => {
    const site = await startSite();
    const home = await fetch(site.base + "/");
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("Get trending papers in your email inbox!");

    const r = await site.post("/subscribe", { email: "Reader@Example.org", website: "" });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("Check your inbox");
    await site.mailCount(1);
    const confirmation = await site.smtp.parse(site.smtp.received[0]!);
    expect(site.smtp.received[0]!.to).toEqual(["reader@example.org"]);
    const confirmUrl = linkIn(confirmation.text!, "confirm");

    // Opening the link (as a mail scanner would) changes nothing.
    const page = await fetch(confirmUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('method="post"');
    expect(findSubscriberByEmail(site.ctx.db, "reader@example.org")!.status).toBe("pending");
    expect((await site.post(new URL(confirmUrl).pathname, "")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "reader@example.org")!.status).toBe("active");

    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    const first = await publishDigests(site.ctx, { retryUnknown: false });
    expect(first.digests[0]).toMatchObject({ sent: 1 });
    const digest = await site.smtp.parse(site.smtp.received[1]!);
    const header = digest.headerLines.find((h) => h.key === "list-unsubscribe")!.line;
    const unsubscribeUrl = /<([^>]+)>/.exec(header)![1]!;
    expect(linkIn(digest.html as string, "unsubscribe")).toBe(unsubscribeUrl);
    // The "view in browser" link works.
    const archive = /href="([^"]+\/digests\/\d+)"/.exec(digest.html as string)![1]!;
    expect((await fetch(archive)).status).toBe(200);

    // RFC 8058: a POST with this body and no cookies unsubscribes; repeating changes nothing.
    for (let i = 0; i < 2; i++) {
      const u = await site.post(new URL(unsubscribeUrl).pathname, "List-Unsubscribe=One-Click");
      expect(u.status).toBe(200);
    }
    expect(findSubscriberByEmail(site.ctx.db, "reader@example.org")!.status).toBe("unsubscribed");
    // The RFC's own example posts multipart/form-data; that works too.
    const multipart = await fetch(unsubscribeUrl, { method: "POST", body: (() => {
      const f = new FormData();
      f.set("List-Unsubscribe", "One-Click");
      return f;
    })() });
    expect(multipart.status).toBe(200);
    expect(await multipart.text()).toBe("Unsubscribed.\n");

    await ingestFile(site.ctx, SAMPLE_FILES[2]!);
    const second = await publishDigests(site.ctx, { retryUnknown: false });
    expect(second.digests[0]).toMatchObject({ recipients: 0, sent: 0 });
    expect(site.smtp.received).toHaveLength(2);
  });

  it("shows an unsubscribe page with a button on GET and unsubscribes on POST", async () => {
    const site = await startSite();
    await site.post("/subscribe", { email: "a@example.org" });
    await site.mailCount(1);
    await site.post(new URL(linkIn((await site.smtp.parse(site.smtp.received[0]!)).text!, "confirm")).pathname, "");
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    const url = linkIn((await site.smtp.parse(site.smtp.received[1]!)).text!, "unsubscribe");
    const page = await fetch(url);
    expect(await page.text()).toContain(">Unsubscribe</button>");
    expect(findSubscriberByEmail(site.ctx.db, "a@example.org")!.status).toBe("active");
    const done = await site.post(new URL(url).pathname, "");
    expect(await done.text()).toContain("You are unsubscribed");
  });

  it("answers the same for new, pending, active and unsubscribed addresses", async () => {
    const site = await startSite();
    const { addConfirmedReader } = await import("../../src/subscribers/manage.js");
    const { applyConsentEvent } = await import("../../src/store/consent.js");
    const at = new Date().toISOString();
    addConfirmedReader(site.ctx.db, "active@example.org", at);
    applyConsentEvent(site.ctx.db, { email: "pending@example.org", source: "cli" }, { type: "request" }, at);
    addConfirmedReader(site.ctx.db, "gone@example.org", at);
    applyConsentEvent(site.ctx.db, { id: findSubscriberByEmail(site.ctx.db, "gone@example.org")!.id }, { type: "unsubscribe" }, at);
    const answers = [];
    for (const email of ["new@example.org", "pending@example.org", "active@example.org", "gone@example.org"]) {
      const r = await site.post("/subscribe", { email });
      answers.push(`${r.status} ${await r.text()}`);
    }
    expect(new Set(answers).size).toBe(1);
  });

  it("sends at most one confirmation per address per 24 hours, and limits form posts per client", async () => {
    const site = await startSite();
    for (let i = 0; i < 3; i++) expect((await site.post("/subscribe", { email: "target@example.org" })).status).toBe(200);
    await site.mailCount(1);
    await site.logged(/confirmation email not sent: this address had one recently/, 2);
    expect(site.smtp.received).toHaveLength(1);
    for (let i = 0; i < 2; i++) await site.post("/subscribe", { email: `other${i}@example.org` });
    const limited = await site.post("/subscribe", { email: "more@example.org" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("900");
  });

  it("stores nothing for a filled honeypot or an invalid address, and says what is wrong", async () => {
    const site = await startSite();
    const bot = await site.post("/subscribe", { email: "bot@example.org", website: "http://spam.example" });
    expect(bot.status).toBe(200);
    const bad = await site.post("/subscribe", { email: '"Eve" <eve@example.org>' });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain("must be one plain address");
    expect(html).toContain("&quot;Eve&quot; &lt;eve@example.org&gt;");
    expect(html).not.toContain('"Eve" <eve');
    expect(site.ctx.db.prepare("SELECT count(*) AS n FROM subscribers").get()).toEqual({ n: 0 });
  });

  it("gives bad, expired and foreign tokens the same 404 page", async () => {
    const clock = fakeClock();
    const site = await startSite({ clock });
    await site.post("/subscribe", { email: "slow@example.org" });
    await site.mailCount(1);
    const confirmUrl = linkIn((await site.smtp.parse(site.smtp.received[0]!)).text!, "confirm");
    clock.advance(8 * 86400_000);
    const pages = [];
    for (const path of [new URL(confirmUrl).pathname, "/confirm/AAAAAAAAAAAAAAAAAAAAAAAA", "/confirm/x", "/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAA", "/unsubscribe/%3Cscript%3E"]) {
      const r = await fetch(site.base + path);
      pages.push(`${r.status} ${await r.text()}`);
    }
    expect(new Set(pages).size).toBe(1);
    expect(pages[0]).toMatch(/^404 /);
    expect((await site.post(new URL(confirmUrl).pathname, "")).status).toBe(404);
    expect(findSubscriberByEmail(site.ctx.db, "slow@example.org")!.status).toBe("pending");
  });

  it("sends security headers, refuses large bodies, and answers /healthz", async () => {
    const site = await startSite();
    const r = await fetch(site.base + "/");
    expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(r.headers.get("content-security-policy")).not.toContain("script-src");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    expect((await site.post("/subscribe", `email=${"a".repeat(20_000)}`)).status).toBe(413);
    const health = await fetch(site.base + "/healthz");
    expect(await health.json()).toEqual({ ok: true, status: "ok" });
    expect((await fetch(site.base + "/nothing-here")).status).toBe(404);
  });

  it("lists published digests and shows each one as a page", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    const list = await (await fetch(site.base + "/digests")).text();
    expect(list).toContain('href="/digests/1"');
    const page = await fetch(site.base + "/digests/1");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Return of the Encoder");
    expect((await fetch(site.base + "/digests/99")).status).toBe(404);
    expect(await (await fetch(site.base + "/")).text()).toMatch(/Trending on Hugging Face · Dec 12: .+ and 3 more/);
  });
});
