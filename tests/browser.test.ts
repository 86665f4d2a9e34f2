import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishDigests } from "../src/digest/publish.js";
import { renderDigest } from "../src/render/email.js";
import { digestLinks } from "../src/render/links.js";
import { digestPapers } from "../src/store/digests.js";
import { ingestFile } from "../src/ingest/ingest-file.js";
import { addSubscriber, findSubscriberByEmail } from "../src/store/subscribers.js";
import { ROOT, SAMPLE_FILES } from "./helpers.js";

const require = createRequire(import.meta.url);
import { startSite } from "./site.js";
import { hasPackage } from "./system-packages.js";

const CHROMIUM = process.env.PAPERMAIL_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "tests", "artifacts");
// CI installs Chromium (.ci/run); elsewhere these tests run when it is there.
const available = hasPackage("chromium");

describe.skipIf(!available)("in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    // A first launch reads the whole browser from a cold disk.
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("subscribes through the form, follows the emailed link and confirms with a click", async () => {
    const site = await startSite();
    const page = await browser.newPage({ viewport: { width: 420, height: 900 } });
    await page.goto(`${site.base}/`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "subscribe-page.png"), fullPage: true });

    await page.fill('input[name="email"]', "browser@example.org");
    await page.click('form.subscribe button[type="submit"]');
    await page.waitForSelector("text=Check your inbox");
    await site.mailCount(1);
    const mail = await site.smtp.parse(site.smtp.received[0]!);
    const link = /https?:\/\/[^\s"<>]+\/confirm\/[A-Za-z0-9_-]+/.exec(mail.text!)![0];

    await page.goto(link);
    expect(findSubscriberByEmail(site.ctx.db, "browser@example.org")!.status).toBe("pending");
    await page.click("text=Confirm subscription");
    await page.waitForSelector("text=You are subscribed");
    expect(findSubscriberByEmail(site.ctx.db, "browser@example.org")!.status).toBe("active");
    await page.screenshot({ path: join(ARTIFACTS, "confirmed-page.png") });
  });
});

describe.skipIf(!available)("accessible to everyone (axe-core, WCAG 2.1 A/AA)", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Serious and critical axe violations of a page, light or dark; the page's own CSP is bypassed only to run axe. */
  async function audit(target: { url?: string; html?: string }, colorScheme: "light" | "dark") {
    const context = await browser.newContext({ bypassCSP: true, colorScheme, viewport: { width: 1024, height: 900 } });
    const page = await context.newPage();
    if (target.url) await page.goto(target.url);
    else await page.setContent(target.html!, { waitUntil: "load" });
    await page.addScriptTag({ content: readFileSync(require.resolve("axe-core/axe.min.js"), "utf8") });
    const result = (await page.evaluate(() =>
      (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run({
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      }),
    )) as { violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> };
    await context.close();
    return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }

  it("finds nothing serious on any page, in the digest email or in the confirmation email, light or dark", async () => {
    const site = await startSite();
    for (const file of SAMPLE_FILES) await ingestFile(site.ctx, file);
    addSubscriber(site.ctx.db, "reader@example.org", "active", new Date().toISOString());
    addSubscriber(site.ctx.db, "compact@example.org", "active", new Date().toISOString(), "cli", { choices: { format: "compact", topics: ["language model", "vision"] } });
    await publishDigests(site.ctx, { retryUnknown: false });
    await site.post("/subscribe", { email: "new@example.org" });
    await site.mailCount(3);
    const digest = site.smtp.received.find((m) => m.to[0] === "reader@example.org")!;
    const compact = site.smtp.received.find((m) => m.to[0] === "compact@example.org")!;
    const digestHtml = (await site.smtp.parse(digest)).html as string;
    const preferencesUrl = /https?:\/\/[^\s"<>]+\/preferences\/[A-Za-z0-9_.-]+/.exec(digestHtml)![0];
    const confirmation = site.smtp.received.find((m) => m.to[0] === "new@example.org")!;
    const confirmUrl = /https?:\/\/[^\s"<>]+\/confirm\/[A-Za-z0-9_-]+/.exec((await site.smtp.parse(confirmation)).text!)![0];
    const paperSlug = (site.ctx.db.prepare("SELECT slug FROM papers ORDER BY upvotes DESC LIMIT 1").get() as { slug: string }).slug;
    const unsubscribeUrl = /https?:\/\/[^\s"<>]+\/unsubscribe\/[A-Za-z0-9_.-]+/.exec(digestHtml)![0];
    const unsubscribed = await site.post(new URL(unsubscribeUrl).pathname, "");
    expect(unsubscribed.status).toBe(200);
    // The confirm page as a new reader sees it, then the page after the click.
    const confirmPage = await (await fetch(confirmUrl)).text();
    const subscribedPage = await (await site.post(new URL(confirmUrl).pathname, "")).text();
    expect(subscribedPage).toContain("You are subscribed");
    const targets: Record<string, { url?: string; html?: string }> = {
      home: { url: `${site.base}/` },
      archive: { url: `${site.base}/digests` },
      "digest page": { url: `${site.base}/digests/1` },
      "paper page": { url: `${site.base}/papers/${paperSlug}` },
      "search form": { url: `${site.base}/search` },
      "search results": { url: `${site.base}/search?q=language%20model` },
      "no search results": { url: `${site.base}/search?q=zzqqxx` },
      "already unsubscribed": { url: unsubscribeUrl },
      "subscribed page": { html: subscribedPage },
      "confirm page": { html: confirmPage },
      "preferences page": { url: preferencesUrl },
      "not found": { url: `${site.base}/nope` },
      "digest email": { html: digestHtml },
      "compact digest email": { html: (await site.smtp.parse(compact)).html as string },
      "confirmation email": { html: (await site.smtp.parse(confirmation)).html as string },
    };
    const problems: string[] = [];
    for (const [name, target] of Object.entries(targets)) {
      for (const scheme of ["light", "dark"] as const) for (const v of await audit(target, scheme)) problems.push(`${name} (${scheme}): ${v}`);
    }
    expect(problems).toEqual([]);

    // A 30-paper compact digest fits on three screens of a 390 x 844 phone, with tap targets a thumb can hit.
    {
      const papers = digestPapers(site.ctx.db, 1);
      expect(papers.length).toBe(30);
      const rendered = await renderDigest("s", papers, digestLinks(site.ctx.config, 1), { format: "compact" });
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      await page.setContent(rendered.html, { waitUntil: "load" });
      // Every link of the list is a tap target of at least 24 x 24 CSS px (WCAG 2.5.8).
      const small = await page.evaluate(() =>
        [...document.querySelectorAll("ol li a")].flatMap((a) => [...a.getClientRects()].filter((r) => r.width < 24 || r.height < 24).map((r) => `${a.textContent} ${r.width}x${r.height}`)),
      );
      expect(small).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(3 * 844);
      await context.close();
    }

    // What readers see: their preferences page, and a full and a compact digest at phone and desktop widths, light and dark.
    mkdirSync(ARTIFACTS, { recursive: true });
    // The site's reading pages at phone and desktop widths, light and dark: no sideways scrolling anywhere.
    for (const name of ["home", "digest page", "paper page", "search results", "already unsubscribed"]) {
      for (const width of [375, 1280]) {
        for (const colorScheme of ["light", "dark"] as const) {
          const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 } });
          const page = await context.newPage();
          await page.goto(targets[name]!.url!);
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${name} at ${width}`).toBe(true);
          await page.screenshot({ path: join(ARTIFACTS, `${name.replace(/ /g, "-")}-${width}-${colorScheme}.png`), fullPage: true });
          await context.close();
        }
      }
    }
    {
      const context = await browser.newContext({ viewport: { width: 375, height: 900 } });
      const page = await context.newPage();
      await page.goto(preferencesUrl);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, "preferences-375-light.png"), fullPage: true });
      await context.close();
    }
    for (const [format, html] of [["full", digestHtml], ["compact", targets["compact digest email"]!.html!]] as const) {
      for (const width of [375, 1280]) {
        for (const colorScheme of ["light", "dark"] as const) {
          const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 } });
          const page = await context.newPage();
          await page.setContent(html, { waitUntil: "load" });
          // No sideways scrolling at any width.
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
          await page.screenshot({ path: join(ARTIFACTS, `digest-${format}-${width}-${colorScheme}.png`), fullPage: true });
          await context.close();
        }
      }
    }
  }, 120_000);
});
