import { describe, expect, it } from "vitest";
import { publishDigests } from "../../src/digest/publish.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { startSite } from "../helpers/site.js";

function linkIn(text: string, kind: "confirm" | "preferences"): string {
  const m = new RegExp(`https?://[^\\s"<>]+/${kind}/[A-Za-z0-9_.-]+`).exec(text);
  if (!m) throw new Error(`no ${kind} link in:\n${text}`);
  return m[0];
}

const choicesOf = (site: Awaited<ReturnType<typeof startSite>>, email: string) => findSubscriberByEmail(site.ctx.db, email)!.choices;

describe("a reader's choices on the web", () => {
  it("the plain form still works with one field; its optional choices are kept and shown again on the confirmation page", async () => {
    const site = await startSite();
    expect((await site.post("/subscribe", { email: "plain@example.org" })).status).toBe(200);
    expect(choicesOf(site, "plain@example.org")).toEqual({ cadence: "daily", topics: [], minUpvotes: 0, format: "full", alsoTrending: 3 });

    const home = await (await fetch(site.base + "/")).text();
    expect(home).toContain('name="topics"');
    expect(home).toContain('value="daily" checked');
    const r = await site.post("/subscribe", { email: "ada@example.org", cadence: "weekly", topics: "Speech, diffusion", min_upvotes: "3", format: "compact" });
    expect(r.status).toBe(200);
    expect(choicesOf(site, "ada@example.org")).toEqual({ cadence: "weekly", topics: ["speech", "diffusion"], minUpvotes: 3, format: "compact", alsoTrending: 3 });

    // A bad choice is refused with the field named, nothing stored, and the form keeps what was typed.
    const bad = await site.post("/subscribe", { email: "bob@example.org", topics: "a, b", min_upvotes: "lots" });
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toContain("Upvotes: must be a whole number from 0 to 100000.");
    expect(page).toContain('value="a, b"');
    expect(findSubscriberByEmail(site.ctx.db, "bob@example.org")).toBeUndefined();

    await site.mailCount(2);
    const confirmation = await site.smtp.parse(site.smtp.received.find((m) => m.to[0] === "ada@example.org")!);
    const confirmUrl = linkIn(confirmation.text!, "confirm");
    // The confirmation email links the preferences page too.
    expect(confirmation.text).toContain("/preferences/");
    const confirmPage = await (await fetch(confirmUrl)).text();
    expect(confirmPage).toContain('value="speech, diffusion"');
    expect(confirmPage).toContain('value="weekly" checked');
    // A bad choice on the confirmation page confirms nothing and says what is wrong.
    const refused = await site.post(new URL(confirmUrl).pathname, { cadence: "hourly" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("How often: must be daily or weekly.");
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")!.status).toBe("pending");
    // Confirming can change them once more.
    const done = await site.post(new URL(confirmUrl).pathname, { cadence: "daily", topics: "speech", min_upvotes: "0", format: "full" });
    expect(done.status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")).toMatchObject({ status: "active", choices: { cadence: "daily", topics: ["speech"], minUpvotes: 0, format: "full" } });
    // Someone else posting the form for an active address changes nothing of theirs.
    await site.post("/subscribe", { email: "ada@example.org", cadence: "weekly", topics: "", format: "compact" });
    expect(choicesOf(site, "ada@example.org")).toEqual({ cadence: "daily", topics: ["speech"], minUpvotes: 0, format: "full", alsoTrending: 3 });
  });

  it("every digest links the reader's preferences page: GET shows and changes nothing, POST saves, a forged token finds nothing", async () => {
    const site = await startSite();
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(1);
    const confirmUrl = linkIn((await site.smtp.parse(site.smtp.received[0]!)).text!, "confirm");
    await site.post(new URL(confirmUrl).pathname, "");
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    const digest = await site.smtp.parse(site.smtp.received[1]!);
    const url = linkIn(digest.html as string, "preferences");
    expect(linkIn(digest.text!, "preferences")).toBe(url);
    // The unsubscribe page offers less mail instead of none, through the same page.
    const unsubscribePage = await (await fetch(/https?:\/\/[^\s"<>]+\/unsubscribe\/[A-Za-z0-9_.-]+/.exec(digest.text!)![0])).text();
    expect(unsubscribePage).toContain(`href="${url}"`);

    for (let i = 0; i < 2; i++) {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("ada@example.org");
      expect(html).toContain('value="daily" checked');
      expect(html).toContain('value="full" checked');
    }
    expect(choicesOf(site, "ada@example.org")).toEqual({ cadence: "daily", topics: [], minUpvotes: 0, format: "full", alsoTrending: 3 });

    const saved = await site.post(new URL(url).pathname, { cadence: "weekly", topics: "vision, reinforcement learning", min_upvotes: "2", format: "compact" });
    expect(saved.status).toBe(200);
    const html = await saved.text();
    expect(html).toContain("Saved.");
    expect(html).toContain('value="vision, reinforcement learning"');
    expect(choicesOf(site, "ada@example.org")).toEqual({ cadence: "weekly", topics: ["vision", "reinforcement learning"], minUpvotes: 2, format: "compact", alsoTrending: 3 });
    // "Also trending" is a choice too, and can be turned off; the form shows what is saved.
    const off = await site.post(new URL(url).pathname, { also_trending: "0" });
    expect(await off.text()).toMatch(/<option value="0" selected>None<\/option>/);
    expect(choicesOf(site, "ada@example.org").alsoTrending).toBe(0);
    const tooMuch = await site.post(new URL(url).pathname, { also_trending: "50" });
    expect(tooMuch.status).toBe(400);
    expect(await tooMuch.text()).toContain("Also trending: must be a whole number from 0 to 10");

    const tooMany = await site.post(new URL(url).pathname, { topics: Array.from({ length: 21 }, (_, i) => `t${i}`).join(",") });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toContain("Topics: at most 20 topics (got 21).");
    expect(choicesOf(site, "ada@example.org").topics).toEqual(["vision", "reinforcement learning"]);

    // Another reader's id with this token's MAC, or a made-up token: not found, nothing shown.
    const token = new URL(url).pathname.split("/")[2]!;
    const [id, mac] = token.split(".");
    for (const forged of [`${(parseInt(id!, 36) + 1).toString(36)}.${mac}`, "abc", `${id}.${"A".repeat(22)}`]) {
      const r = await fetch(`${site.base}/preferences/${forged}`);
      expect(r.status).toBe(404);
      expect(await r.text()).not.toContain("ada@example.org");
    }
  });

  it("the archive shows a weekly edition with the papers of the week's daily digests", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    await ingestFile(site.ctx, SAMPLE_FILES[2]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    const weekly = await publishDigests(site.ctx, { retryUnknown: false, edition: "weekly" });
    expect(weekly.digests[0]).toMatchObject({ edition: "weekly", recipients: 0 });
    const id = weekly.digests[0]!.digestId;
    const papers = site.ctx.db.prepare("SELECT count(*) AS n FROM digest_papers").get() as { n: number };
    const page = await (await fetch(`${site.base}/digests/${id}`)).text();
    expect(page).toContain(`${papers.n} papers listed Dec 12-15, most upvoted first`);
    expect(page).toContain("Weekly digest #");
    expect(page).toContain("This week on Hugging Face · Dec 12-15");
    expect(page).toContain("most upvoted first by their upvotes when this edition was made");
    const home = await (await fetch(`${site.base}/`)).text();
    expect(home).toMatch(/This week on Hugging Face · Dec 12-15: .+ and \d+ more/);
    // Nothing new since: a second weekly run publishes nothing.
    expect((await publishDigests(site.ctx, { retryUnknown: false, edition: "weekly" })).digests).toEqual([]);
  });
});
