import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { dayRange } from "../../src/util/time.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { siteWithDigest, startSite } from "../helpers/site.js";
import { project } from "../helpers/project.js";

/*
 * What a newcomer tripped on, trying papermail as a reader and as an operator would.
 */
describe("what a newcomer sees", () => {
  it("the unsubscribe page says what the button will do before the click, and what was done after", async () => {
    const { site, mail } = await siteWithDigest();
    const link = /<([^>]+)>/.exec(mail.headerLines.find((h) => h.key === "list-unsubscribe")!.line)![1]!;
    const before = await (await fetch(link)).text();
    expect(before).not.toContain("You will get no further digests");
    expect(before).toContain("You are still subscribed. Press the button to stop every digest to this address");
    const after = await (await site.post(new URL(link).pathname, "")).text();
    expect(after).toContain("You are unsubscribed");
    expect(after).toContain("No further digests come to this address");
    expect(after).toContain("Undo");
  });

  it("the search page has one search box, the header's, holding the query", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    for (const path of ["/search", "/search?q=diffusion"]) {
      const html = await (await fetch(site.base + path)).text();
      expect(html.match(/type="search"/g)).toHaveLength(1);
    }
    expect(await (await fetch(`${site.base}/search?q=diffusion`)).text()).toContain('value="diffusion"');
  });

  it("before the first digest, the front page shows the newest stored papers", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    const home = await (await fetch(`${site.base}/`)).text();
    expect(home).toContain("Newest papers: stored, not sent in a digest yet");
    expect(home.match(/<article class="paper"/g)!.length).toBeGreaterThan(0);
  });

  it("a public /metrics says where the metrics are instead of a bare 404", async () => {
    const site = await startSite();
    const r = await fetch(`${site.base}/metrics`);
    expect(r.status).toBe(404);
    expect(await r.text()).toMatch(/PAPERMAIL_METRICS_TOKEN.*PAPERMAIL_ADMIN_HOST/);
  });

  it("date ranges that span two years name the years", () => {
    expect(dayRange("2024-12-30", "2025-01-02")).toBe("Dec 30, 2024 – Jan 2, 2025");
    expect(dayRange("2024-11-30", "2024-12-02")).toBe("Nov 30 – Dec 2");
    expect(dayRange("2024-12-12", "2024-12-15")).toBe("Dec 12-15");
  });

  it("the demo fetches into ./dumps, never into the tracked samples folder", () => {
    const cwd = tempDir();
    const demo = loadConfig({}, cwd);
    expect(demo.demo).toBe(true);
    expect(demo.fetchDir).toBe(`${cwd}/dumps`);
    expect(loadConfig({ PAPERMAIL_DUMPS_DIR: "in" }, cwd).fetchDir).toBe(`${cwd}/in`);
  });

  it("status counts the messages written to the outbox among those sent in the last 24 hours", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    await p.cli(["send-digest"]);
    expect((await p.cli(["status"])).stdout).toMatch(/; 1 sent in the last 24 hours/);
  });

  it("the email's titles look like the links they are", async () => {
    const { mail } = await siteWithDigest();
    const html = mail.html as string;
    expect(html).toContain(".p h2 a, .t a { color: #0b57d0; text-decoration: underline;");
  });
});
