import { describe, expect, it } from "vitest";
import { resolveSecret } from "../../src/store/settings.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";
import { preferencesToken } from "../../src/util/tokens.js";
import { startSite } from "../helpers/site.js";

describe("security headers", () => {
  it("answers private pages with no-store and the security headers; public pages stay cacheable", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    const id = (site.ctx.db.prepare("SELECT id FROM subscribers").get() as { id: number }).id;
    const page = await fetch(`${site.base}/preferences/${preferencesToken(resolveSecret(site.ctx.db, site.ctx.config.secret), id)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("ada@example.org");
    expect(page.headers.get("cache-control")).toBe("no-store");
    for (const h of ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"]) expect(page.headers.get(h)).toBeTruthy();
    expect((await fetch(`${site.base}/feed.xml`)).headers.get("cache-control")).toMatch(/^public/);
  });
});
