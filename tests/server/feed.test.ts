import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { storedPaper } from "../helpers/papers.js";
import { describe, expect, it } from "vitest";
import { renderFeed, type FeedItem } from "../../src/render/feed.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { startSite } from "../helpers/site.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { publishDigests } from "../../src/digest/publish.js";
import { ABSTRACT, pageHeader } from "../helpers/project.js";

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
    // The page of the next list day: the second digest is its news.
    writeFileSync(dump, `${pageHeader("Dec 13")}${title}\n\n${ABSTRACT} <angles> https://github.com/org/repo\n\n  • 2 authors\n·\nDec 1 7\n`);
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

  it("names each author once (the first five, then et al.), keeps the organisation apart, and links each item to its paper page", async () => {
    const site = await startSite();
    const many = Array.from({ length: 8 }, (_, i) => ({ name: `Author Number${i + 1}` }));
    const dir = join(site.cwd, "dumps");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "daily_papers_2024-12-12.json");
    writeFileSync(
      file,
      JSON.stringify([
        { paper: { id: "2412.00001", title: "Many Hands Make Light Work", summary: "We study teams.", upvotes: 9, authors: many, organization: { name: "kyutai", fullname: "Kyutai" } }, submittedOnDailyAt: "2024-12-12T10:00:00Z" },
        { paper: { id: "2412.00002", title: "A Paper By Two", summary: "We study pairs.", upvotes: 5, authors: [{ name: "Ada Lovelace" }, { name: "Alan Turing" }] }, submittedOnDailyAt: "2024-12-12T10:00:00Z" },
      ]),
    );
    await ingestFile(site.ctx, file);
    await publishDigests(site.ctx, { retryUnknown: false });
    const atom = new XMLParser({ ignoreAttributes: false }).parse(await (await fetch(`${site.base}/feed.atom`)).text()).feed;
    const entries = [atom.entry].flat() as Array<{ title: string; author: Array<{ name: string }> | { name: string }; link: { "@_href": string } }>;
    const many8 = entries.find((e) => e.title === "Many Hands Make Light Work")!;
    expect([many8.author].flat().map((a) => a.name)).toEqual(["Author Number1", "Author Number2", "Author Number3", "Author Number4", "Author Number5", "et al."]);
    expect(many8.link["@_href"]).toMatch(new RegExp(`^${site.base}/papers/[a-z0-9]+$`));
    expect((await fetch(many8.link["@_href"])).status).toBe(200);
    const rss = await (await fetch(`${site.base}/feed.xml`)).text();
    expect(rss.match(/<dc:creator>(Ada Lovelace|Alan Turing)<\/dc:creator>/g)).toHaveLength(2);
    expect(rss).not.toMatch(/<dc:creator>[^<]*Kyutai/);
    const json = JSON.parse(await (await fetch(`${site.base}/feed.json`)).text()) as { items: Array<{ title: string; authors?: Array<{ name: string }>; _papermail?: { organization: string } }> };
    const item = json.items.find((i) => i.title === "Many Hands Make Light Work")!;
    expect(item.authors).toHaveLength(6);
    expect(item._papermail).toEqual({ organization: "Kyutai" });
  });

  it("renders the same bytes for the same items", () => {
    const item: FeedItem = {
      ...storedPaper({ id: 1, slug: "0123456789abcdef", title: "T", abstract: "A\u0001", authorsCount: 3, publishedOn: "2024-12-01", upvotes: 2, codeUrl: "javascript:alert(1)" }),
      digestCreatedAt: "2024-12-12T08:00:00.000Z",
    };
    const meta = { siteUrl: "https://x.org/", feedUrl: "https://x.org/feed.xml", updated: new Date("2024-12-12T08:00:00Z"), title: "papermail: trending papers", paperUrl: (slug: string) => `https://x.org/papers/${slug}` };
    const xml = renderFeed(meta, [item]);
    expect(renderFeed(meta, [item])).toBe(xml);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain("javascript:");
  });
});

describe("feeds for readers who prefer them", () => {
  it("filters RSS, Atom and JSON Feed by topics and upvotes, with the same ids, categories and authors in all three", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[1]!);
    await publishDigests(site.ctx, { retryUnknown: false, maxPapers: 100 });
    const get = async (path: string) => {
      const r = await fetch(site.base + path);
      return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
    };
    const rss = await get("/feed.xml?topics=Speech,%20retrieval");
    expect(rss.type).toMatch(/^application\/rss\+xml/);
    const rssItems = items(rss.text).items as Array<{ title: string; guid: string | { "#text": string }; category: string | string[] }>;
    expect(rssItems.length).toBeGreaterThan(0);
    for (const i of rssItems) expect([i.category].flat().every((c) => ["speech", "retrieval"].includes(c))).toBe(true);
    const guids = rssItems.map((i) => (typeof i.guid === "string" ? i.guid : i.guid["#text"]));

    const atom = await get("/feed.atom?topics=speech,retrieval");
    expect(atom.type).toMatch(/^application\/atom\+xml/);
    expect(XMLValidator.validate(atom.text)).toBe(true);
    const feed = new XMLParser({ ignoreAttributes: false }).parse(atom.text).feed;
    const entries = [feed.entry].flat() as Array<{ id: string; author?: { name: string }; category: unknown }>;
    expect(entries.map((e) => e.id.replace(/^urn:/, ""))).toEqual(guids);

    const json = await get("/feed.json?topics=speech,retrieval");
    expect(json.type).toMatch(/^application\/feed\+json/);
    const jf = JSON.parse(json.text) as { version: string; items: Array<{ id: string; tags: string[]; authors?: Array<{ name: string }> }> };
    expect(jf.version).toBe("https://jsonfeed.org/version/1.1");
    expect(jf.items.map((i) => i.id)).toEqual(guids);
    // Page text knows an author count or an organisation, never names: no author element says "10 authors".
    expect(jf.items.every((i) => i.authors === undefined)).toBe(true);
    expect(entries.every((e) => e.author === undefined)).toBe(true);

    // The whole feed holds every filtered id; a high bar of upvotes leaves fewer.
    const all = (items((await get("/feed.xml")).text).items as Array<{ guid: string | { "#text": string } }>).map((i) => (typeof i.guid === "string" ? i.guid : i.guid["#text"]));
    for (const g of guids) expect(all).toContain(g);
    const popular = JSON.parse((await get("/feed.json?min_upvotes=5")).text).items as unknown[];
    expect(popular.length).toBeLessThan(all.length);
    expect((await get("/feed.json?min_upvotes=-1")).status).toBe(400);

    // Autodiscovery of all three on the home page.
    const home = (await get("/")).text;
    for (const type of ["application/rss+xml", "application/atom+xml", "application/feed+json"]) expect(home).toContain(`type="${type}"`);
  });

  it("papermail feed writes each format and filter the site serves", async () => {
    const cwd = tempDir();
    await runCli(["subscribers", "add", "a@example.org", "--confirmed"], { cwd });
    await runCli(["ingest", SAMPLE_FILES[1]!], { cwd });
    await runCli(["send-digest", "--max-papers", "100"], { cwd });
    const json = await runCli(["feed", "--format", "json", "--topics", "speech"], { cwd });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).items.every((i: { tags: string[] }) => i.tags.includes("speech"))).toBe(true);
    const atom = await runCli(["feed", "--format", "atom"], { cwd });
    expect(XMLValidator.validate(atom.stdout)).toBe(true);
    expect((await runCli(["feed", "--format", "csv"], { cwd })).code).toBe(2);
  });
});

describe("topics", () => {
  it("match whole words and phrases in any case, with simple plurals, and the JSON's keywords", async () => {
    const { topicMatcher } = await import("../../src/model/topics.js");
    const match = topicMatcher(["speech", "reinforcement learning", "model", "diffusion"]);
    expect(match({ title: "Text-to-Speech for All", abstract: null })).toEqual(["speech"]);
    expect(match({ title: "Speechless", abstract: "Free speeches." })).toEqual(["speech"]);
    expect(match({ title: "x", abstract: "Deep Reinforcement-Learning agents and large MODELS" })).toEqual(["reinforcement learning", "model"]);
    expect(match({ title: "Modelling", abstract: null })).toEqual([]);
    expect(match({ title: "x", abstract: null, keywords: ["Diffusion"] })).toEqual(["diffusion"]);
    // Case folding as Unicode does it: the Kelvin sign is a K, the long s an s, final sigma a sigma.
    expect(topicMatcher(["kelvin", "study", "σ-models"])({ title: "\u212Aelvin and ſtudy", abstract: "Of Σ-Models" })).toEqual(["kelvin", "study", "σ-models"]);
    expect(topicMatcher(["ödem", "straße"])({ title: "ÖDEM in der STRASSE", abstract: "Straße" })).toEqual(["ödem", "straße"]);
  });
});

describe("feed filters", () => {
  it("says in full what is wrong with a feed filter", async () => {
    const site = await startSite();
    const r = await fetch(`${site.base}/feed.json?min_upvotes=abc`);
    expect(r.status).toBe(400);
    expect(await r.text()).toBe("min_upvotes: must be a whole number from 0 to 100000\n");
    const t = await fetch(`${site.base}/feed.json?topics=${encodeURIComponent("---, speech")}`);
    expect(await t.text()).toMatch(/^topics: a topic needs a letter or digit/);
  });
});
