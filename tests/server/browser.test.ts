import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishDigests } from "../../src/digest/publish.js";
import { renderDigest } from "../../src/render/email.js";
import { digestLinks } from "../../src/render/links.js";
import { digestPapers } from "../../src/store/digest-papers.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { addConfirmedReader, suppressAddress } from "../../src/subscribers/manage.js";
import { ROOT, SAMPLE_FILES } from "../helpers/files.js";

const require = createRequire(import.meta.url);
import { startSite } from "../helpers/site.js";
import { hasPackage } from "../helpers/system-packages.js";

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

/** Serious and critical axe violations of a page, light or dark; the page's own CSP is bypassed only to run axe. */
let AXE: string | undefined;

/** Runs `work` over `items` three at a time (the browser renders on every core while the test waits); results in order. */
async function threeAtATime<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
    }),
  );
  return results;
}

async function audit(browser: Browser, target: { url?: string; html?: string }, colorScheme: "light" | "dark", cookies: Parameters<BrowserContext["addCookies"]>[0] = []) {
  const context = await browser.newContext({ bypassCSP: true, colorScheme, viewport: { width: 1024, height: 900 } });
  await context.addCookies(cookies);
  const page = await context.newPage();
  if (target.url) await page.goto(target.url);
  else await page.setContent(target.html!, { waitUntil: "load" });
  await page.addScriptTag({ content: (AXE ??= readFileSync(require.resolve("axe-core/axe.min.js"), "utf8")) });
  const result = (await page.evaluate(() =>
    (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    }),
  )) as { violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> };
  await context.close();
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

describe.skipIf(!available)("accessible to everyone (axe-core, WCAG 2.1 A/AA)", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("finds nothing serious on any page, in the digest email or in the confirmation email, light or dark", async () => {
    const site = await startSite();
    for (const file of SAMPLE_FILES) await ingestFile(site.ctx, file);
    addConfirmedReader(site.ctx.db, "reader@example.org", new Date().toISOString());
    addConfirmedReader(site.ctx.db, "compact@example.org", new Date().toISOString(), { choices: { format: "compact", topics: ["language model", "vision"] } });
    addConfirmedReader(site.ctx.db, "topics@example.org", new Date().toISOString(), { choices: { topics: ["diffusion", "video"] } });
    await publishDigests(site.ctx, { retryUnknown: false });
    await site.post("/subscribe", { email: "new@example.org" });
    await site.mailCount(4);
    const digest = site.smtp.received.find((m) => m.to[0] === "reader@example.org")!;
    const compact = site.smtp.received.find((m) => m.to[0] === "compact@example.org")!;
    const digestHtml = (await site.smtp.parse(digest)).html as string;
    const preferencesUrl = /https?:\/\/[^\s"<>]+\/preferences\/[A-Za-z0-9_.-]+/.exec(digestHtml)![0];
    const confirmation = site.smtp.received.find((m) => m.to[0] === "new@example.org")!;
    const confirmUrl = /https?:\/\/[^\s"<>]+\/confirm\/[A-Za-z0-9_-]+/.exec((await site.smtp.parse(confirmation)).text!)![0];
    const paperSlug = (site.ctx.db.prepare("SELECT slug FROM papers ORDER BY upvotes DESC LIMIT 1").get() as { slug: string }).slug;
    const unsubscribeUrl = /https?:\/\/[^\s"<>]+\/unsubscribe\/[A-Za-z0-9_.-]+/.exec(digestHtml)![0];
    const unsubscribePage = await (await fetch(unsubscribeUrl)).text();
    const topicMail = await site.smtp.parse(site.smtp.received.find((m) => m.to[0] === "topics@example.org")!);
    expect(topicMail.html).toContain("Also trending");
    const topicDigestUrl = /View this digest on the web: (\S+)/.exec(topicMail.text!)![1]!;
    expect(topicDigestUrl).toContain("?topics=diffusion,video");
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
      "unsubscribe page": { html: unsubscribePage },
      "topic digest page": { url: topicDigestUrl.replace(/^https?:\/\/[^/]+/, site.base) },
      "topic digest email": { html: topicMail.html as string },
      "subscribed page": { html: subscribedPage },
      "confirm page": { html: confirmPage },
      "preferences page": { url: preferencesUrl },
      "not found": { url: `${site.base}/nope` },
      "digest email": { html: digestHtml },
      "compact digest email": { html: (await site.smtp.parse(compact)).html as string },
      "confirmation email": { html: (await site.smtp.parse(confirmation)).html as string },
    };
    const audits = Object.entries(targets).flatMap(([name, target]) => (["light", "dark"] as const).map((scheme) => ({ name, target, scheme })));
    const found = await threeAtATime(audits, async ({ name, target, scheme }) => (await audit(browser, target, scheme)).map((v) => `${name} (${scheme}): ${v}`));
    expect(found.flat()).toEqual([]);

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
    const shots = ["home", "digest page", "topic digest page", "paper page", "search form", "search results", "unsubscribe page", "already unsubscribed"].flatMap((name) =>
      [375, 1280].flatMap((width) => (["light", "dark"] as const).map((colorScheme) => ({ name, width, colorScheme }))),
    );
    await threeAtATime(shots, async ({ name, width, colorScheme }) => {
      const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 } });
      const page = await context.newPage();
      const target = targets[name]!;
      if (target.url) await page.goto(target.url);
      else await page.setContent(target.html!, { waitUntil: "load" });
      // No button label breaks inside a word ("Sear/ch").
      expect(await page.evaluate(() => [...document.querySelectorAll("button")].every((b) => b.scrollWidth <= b.clientWidth + 1 && b.getClientRects().length === 1)), `${name} buttons at ${width}`).toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${name} at ${width}`).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, `${name.replace(/ /g, "-")}-${width}-${colorScheme}.png`), fullPage: true });
      await context.close();
    });
    {
      const context = await browser.newContext({ viewport: { width: 375, height: 900 } });
      const page = await context.newPage();
      await page.goto(preferencesUrl);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, "preferences-375-light.png"), fullPage: true });
      await context.close();
    }
    const emails = ([["full", digestHtml], ["compact", targets["compact digest email"]!.html!], ["topics", topicMail.html as string]] as const).flatMap(([format, html]) =>
      [375, 1280].flatMap((width) => (["light", "dark"] as const).map((colorScheme) => ({ format, html, width, colorScheme }))),
    );
    await threeAtATime(emails, async ({ format, html, width, colorScheme }) => {
      const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 } });
      const page = await context.newPage();
      await page.setContent(html, { waitUntil: "load" });
      // No sideways scrolling at any width.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, `digest-${format}-${width}-${colorScheme}.png`), fullPage: true });
      await context.close();
    });
  }, 300_000);
});

describe.skipIf(!available)("the operator console in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("logs in, sees the overview with its charts, finds a reader, changes their choices, lifts a suppression and logs out; nothing serious for axe", async () => {
    const site = await startSite({ env: { PAPERMAIL_ADMIN_PASSWORD: "correct horse battery staple" } });
    for (const file of SAMPLE_FILES) await ingestFile(site.ctx, file);
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    addConfirmedReader(site.ctx.db, "bob@example.org", new Date().toISOString());
    await publishDigests(site.ctx, { retryUnknown: false });
    suppressAddress(site.ctx.db, "trap@example.org", "a known spam trap", new Date().toISOString());

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${site.base}/admin`);
    await page.waitForSelector("text=Console password");
    const loginHtml = await page.content();
    await page.fill("#password", "correct horse battery staple");
    await page.click('button[type="submit"]');
    await page.waitForSelector("h1:text('Overview')");
    expect(await page.locator("figure.chart svg").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("figure.chart svg rect").count()).toBeGreaterThan(0);

    await page.click("text=Readers");
    await page.fill("#q", "ada");
    await page.click("text=Find");
    await page.click("text=ada@example.org");
    const readerUrl = page.url();
    await page.check('input[name="cadence"][value="weekly"]');
    await page.click("text=Save choices");
    await page.waitForSelector("text=Choices saved.");
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")!.choices.cadence).toBe("weekly");

    await page.click("nav >> text=Suppressions");
    await page.click('button[aria-label="Lift the suppression of trap@example.org"]');
    await page.waitForSelector("text=Lifted: trap@example.org is pending");
    expect(findSubscriberByEmail(site.ctx.db, "trap@example.org")!.status).toBe("pending");

    // Every console page, light and dark, signed in as the operator.
    const cookies = await context.cookies();
    const problems: string[] = [];
    const pages: Record<string, { url?: string; html?: string }> = {
      login: { html: loginHtml },
      overview: { url: `${site.base}/admin` },
      readers: { url: `${site.base}/admin/readers` },
      reader: { url: readerUrl },
      suppressions: { url: `${site.base}/admin/suppressions` },
      digests: { url: `${site.base}/admin/digests` },
    };
    for (const [name, target] of Object.entries(pages)) {
      for (const scheme of ["light", "dark"] as const) for (const v of await audit(browser, target, scheme, cookies)) problems.push(`${name} (${scheme}): ${v}`);
    }
    expect(problems).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const width of [375, 1280]) {
      for (const colorScheme of ["light", "dark"] as const) {
        const shot = await browser.newContext({ colorScheme, viewport: { width, height: 900 } });
        await shot.addCookies(cookies);
        const p = await shot.newPage();
        for (const [name, url] of [["overview", `${site.base}/admin`], ["reader", readerUrl], ["digests", `${site.base}/admin/digests`]] as const) {
          await p.goto(url);
          expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${name} at ${width}`).toBe(true);
          // Table headers stay on one line: never "Reade/rs", never letter by letter.
          const broken = await p.evaluate(() =>
            // A header's text on one line has one box per text node; a broken one has more.
            [...document.querySelectorAll("th")].filter((th) => {
              const range = document.createRange();
              range.selectNodeContents(th);
              return th.textContent!.trim() !== "" && range.getClientRects().length > th.childNodes.length;
            }).map((th) => th.textContent),
          );
          expect(broken, `${name} headers at ${width}`).toEqual([]);
          await p.screenshot({ path: join(ARTIFACTS, `admin-${name}-${width}-${colorScheme}.png`), fullPage: true });
        }
        await shot.close();
      }
    }

    await page.click("text=Log out");
    await page.waitForSelector("text=Console password");
    await page.goto(`${site.base}/admin`);
    expect(page.url()).toBe(`${site.base}/admin/login`);
    await context.close();
  }, 300_000);
});
