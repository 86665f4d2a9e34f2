import { describe, expect, it } from "vitest";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { project, smtp } from "../helpers/project.js";
import { startSite, fakeClock } from "../helpers/site.js";
import { resolveSecret } from "../../src/store/settings.js";
import { unsubscribeToken } from "../../src/util/tokens.js";

function confirmLink(text: string): string {
  return /https?:\/\/[^\s"<>]+\/confirm\/[A-Za-z0-9_-]+/.exec(text)![0];
}

describe("confirmation mail", () => {
  it("counts a confirmation only once the mail server took it: a failed one is sent again on the next request", async () => {
    const site = await startSite({ fault: (to, n) => (to === "ada@example.org" && n === 1 ? "550" : undefined) });
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.logged(/not sent/);
    expect(site.smtp.received).toHaveLength(0);
    expect(site.logs.join("\n")).toMatch(/confirmation email not sent/);
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(1)).toBe(1);
    // Now one did go out: the 24-hour limit holds.
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.logged(/confirmation email not sent: this address had one recently/);
    expect(site.smtp.received).toHaveLength(1);
  });

  it("subscribers add exits 1 when the confirmation could not be sent, and a second try sends it", async () => {
    const server = await smtp({ fault: (to, n) => (n === 1 ? "550" : undefined) });
    const p = project(server.url);
    const failed = await p.cli(["subscribers", "add", "ada@example.org"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/confirmation email was not sent/);
    const retried = await p.cli(["subscribers", "add", "ada@example.org"]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/confirmation sent/);
    expect(server.received).toHaveLength(1);
  });

  it("sends someone who unsubscribed and comes back a confirmation that works", async () => {
    const site = await startSite();
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(1);
    const first = confirmLink((await site.smtp.parse(site.smtp.received[0]!)).text!);
    await site.post(new URL(first).pathname, "");
    const sub = findSubscriberByEmail(site.ctx.db, "ada@example.org")!;
    const { applyConsentEvent } = await import("../../src/store/consent.js");
    applyConsentEvent(site.ctx.db, { id: sub.id }, { type: "unsubscribe" }, new Date().toISOString());
    // Back the next day.
    site.ctx.db.prepare("UPDATE confirmation_sends SET sent_at = ? WHERE subscriber_id = ?").run(new Date(Date.now() - 25 * 3600_000).toISOString(), sub.id);
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(2);
    const second = confirmLink((await site.smtp.parse(site.smtp.received[1]!)).text!);
    expect((await site.post(new URL(second).pathname, "")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")!.status).toBe("active");
  });

  it("answers a confirmation link used a second time with 'already subscribed'", async () => {
    const site = await startSite();
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(1);
    const link = new URL(confirmLink((await site.smtp.parse(site.smtp.received[0]!)).text!)).pathname;
    expect((await site.post(link, "")).status).toBe(200);
    for (const again of [await site.post(link, ""), await fetch(site.base + link)]) {
      expect(again.status).toBe(200);
      expect(await again.text()).toContain("You are already subscribed");
    }
  });

  it("prints the confirmation link when mail goes to the outbox, from serve's log and from subscribers add", async () => {
    const site = await startSite({ env: { PAPERMAIL_SMTP_URL: "" } });
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.logged(/confirmation link/);
    expect(site.logs.join("\n")).toMatch(/confirmation link \(outbox\): http:\/\/127\.0\.0\.1:\d+\/confirm\/[A-Za-z0-9_-]{24}/);
    const p = project();
    const added = await p.cli(["subscribers", "add", "bob@example.org"]);
    expect(added.stdout).toMatch(/confirmation link \(outbox\): https:\/\/papers\.example\.org\/confirm\/[A-Za-z0-9_-]{24}/);
  });
});

describe("a returning reader", () => {
  it("sends a returning reader a working confirmation, within one a day", async () => {
    const clock = fakeClock();
    const site = await startSite({ clock });
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(1)).toBe(1);
    const confirmLink = async (n: number) => /\/confirm\/[A-Za-z0-9_-]+/.exec((await site.smtp.parse(site.smtp.received[n]!)).text ?? "")![0];
    expect((await site.post(await confirmLink(0), {})).status).toBe(200);
    const id = (site.ctx.db.prepare("SELECT id FROM subscribers WHERE email = 'ada@example.org'").get() as { id: number }).id;
    const token = unsubscribeToken(resolveSecret(site.ctx.db, site.ctx.config.secret), 1, id);
    expect((await site.post(`/unsubscribe/${token}`, "List-Unsubscribe=One-Click")).status).toBe(200);
    // Back within the hour: an unsubscribe does not reset the limit, so nothing goes yet.
    clock.advance(3600_000);
    await site.post("/subscribe", { email: "ada@example.org" });
    const claims = () => (site.ctx.db.prepare("SELECT count(*) AS n FROM confirmation_sends WHERE subscriber_id = ?").get(id) as { n: number }).n;
    expect(claims()).toBe(1);
    expect(site.logs.some((l) => l.includes("confirmation email not sent: this address had one recently"))).toBe(true);
    // The next day it goes, and its link works.
    clock.advance(24 * 3600_000);
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(2)).toBe(2);
    const again = await site.post(await confirmLink(1), {});
    expect(await again.text()).toContain("You are subscribed");
    // A flood of requests for a pending address still gets one email a day.
    await site.post("/subscribe", { email: "bob@example.org" });
    await site.post("/subscribe", { email: "bob@example.org" });
    await site.mailCount(3);
    expect(site.smtp.received).toHaveLength(3);
  });
});
