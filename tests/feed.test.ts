import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { renderFeed, type FeedItem } from "../src/render/feed.js";
import { runCli, SAMPLE_FILES, tempDir } from "./helpers.js";
import { startSite } from "./site.js";
import { ingestFile } from "../src/ingest/ingest-file.js";
import { publishDigests } from "../src/digest/publish.js";

const HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n";
const ABSTRACT = "We study a thing at length. ".repeat(10).trim();

function items(xml: string) {
  const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml);
  const list = parsed.rss.channel.item ?? [];
  return { channel: parsed.rss.channel, items: Array.isArray(list) ? list : [list] };
}

describe("the RSS feed", () => {
  it("is strict XML with the papers of published digests, newest digest first, and stable GUIDs", async () => {
    const cwd = tempDir();
    const dump = join(cwd, "tricky.txt");
    const title = `Ampersands & <angles> "quoted" 'single' ]]> end`;
    writeFileSync(dump, `${HEADER}${title}\n\n${ABSTRACT} <angles> https://github.com/org/repo\n\n  • 2 authors\n·\nDec 1 7\n`);
    const run = async (env: Record<string, string>) => {
      await runCli(["feed", "--out", "feed.xml"], { cwd, env });
      return (await import("node:fs")).readFileSync(join(cwd, "feed.xml"), "utf8");
    };
    await runCli(["ingest", SAMPLE_FILES[0]!], { cwd });
    await runCli(["send-digest"], { cwd });
    await runCli(["ingest", dump], { cwd });
    await runCli(["send-digest"], { cwd });

    const a = await run({ TZ: "UTC", PAPERMAIL_PUBLIC_URL: "https://papers.example.org" });
    const b = await run({ TZ: "Pacific/Kiritimati", PAPERMAIL_PUBLIC_URL: "http://127.0.0.1:9999/sub" });
    for (const xml of [a, b]) expect(XMLValidator.validate(xml)).toBe(true);
    const fa = items(a);
    const fb = items(b);
    expect(fa.items.map((i: { guid: { "#text": string } }) => i.guid["#text"])).toEqual(fb.items.map((i: { guid: { "#text": string } }) => i.guid["#text"]));
    expect(fa.items[0].guid["@_isPermaLink"]).toBe("false");
    expect(fa.items).toHaveLength(5);
    // The newest digest comes first, and its title survives XML intact.
    expect(fa.items[0].title).toBe(title);
    expect(fa.items[0].description).toContain("&#60;angles&#62;");
    expect(fa.items[0].description).toContain('<a href="https://github.com/org/repo">Code</a>');
    expect(fa.channel["atom:link"]["@_rel"]).toBe("self");
    expect(fa.channel["atom:link"]["@_href"]).toBe("https://papers.example.org/feed.xml");
    expect(fa.channel.lastBuildDate).toBeTruthy();
  });

  it("answers conditional requests with 304", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    const first = await fetch(`${site.base}/feed.xml`);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("application/rss+xml");
    const etag = first.headers.get("etag")!;
    const lastModified = first.headers.get("last-modified")!;
    expect((await fetch(`${site.base}/feed.xml`, { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await fetch(`${site.base}/feed.xml`, { headers: { "if-modified-since": lastModified } })).status).toBe(304);
    expect((await fetch(`${site.base}/feed.xml`, { headers: { "if-none-match": '"other"' } })).status).toBe(200);
  });

  it("renders the same bytes for the same items", () => {
    const item: FeedItem = {
      id: 1, slug: "0123456789abcdef", title: "T", abstract: "A\u0001", authorsCount: 3, orgHandle: null, orgName: null,
      publishedOn: "2024-12-01", upvotes: 2, codeUrl: "javascript:alert(1)", links: [], firstSeenAt: "", lastSeenAt: "",
      digestCreatedAt: "2024-12-12T08:00:00.000Z",
    };
    const meta = { siteUrl: "https://x.org/", feedUrl: "https://x.org/feed.xml", updated: new Date("2024-12-12T08:00:00Z") };
    const xml = renderFeed(meta, [item]);
    expect(renderFeed(meta, [item])).toBe(xml);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain("javascript:");
  });
});
