import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSubscriberByEmail } from "../src/store/subscribers.js";
import { ROOT } from "./helpers.js";
import { startSite } from "./site.js";

const CHROMIUM = process.env.PAPERMAIL_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "tests", "artifacts");
// CI installs Chromium (.ci/run); elsewhere these tests run when it is there.
const available = existsSync(CHROMIUM);

describe.skipIf(!available && !process.env.CI)("in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
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
    await page.click('button[type="submit"]');
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
