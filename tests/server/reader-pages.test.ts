import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publishDigests } from "../../src/digest/publish.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { siteWithDigest, startSite } from "../helpers/site.js";
import { ABSTRACT, HEADER, project } from "../helpers/project.js";

/** A saved daily_papers answer of one day with what the current API adds: ai_summary and githubStars. */
function writeJsonDay(dir: string, day: string, entries: Array<{ id: string; title: string; abstract: string; upvotes: number; summary?: string; repo?: string; stars?: number; authors?: string[] }>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `daily_papers_${day}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      entries.map((e) => ({
        paper: {
          id: e.id,
          title: e.title,
          summary: e.abstract,
          upvotes: e.upvotes,
          authors: (e.authors ?? ["Ada Lovelace"]).map((name) => ({ name })),
          publishedAt: `${day}T00:00:00.000Z`,
          ...(e.summary ? { ai_summary: e.summary } : {}),
          ...(e.repo ? { githubRepo: e.repo, githubStars: e.stars } : {}),
        },
        submittedOnDailyAt: `${day}T10:00:00.000Z`,
      })),
    ),
  );
  return file;
}

const HALLUCINATE = {
  id: "2509.04664",
  title: "Why Language Models Hallucinate",
  abstract:
    "Like students facing hard exam questions, large language models sometimes guess when uncertain, producing plausible yet incorrect statements instead of admitting uncertainty. Such \"hallucinations\" persist even in state-of-the-art systems and undermine trust. We argue that language models hallucinate because the training and evaluation procedures reward guessing over acknowledging uncertainty.",
  upvotes: 26,
  summary:
    "Language models produce incorrect statements due to training and evaluation procedures that reward guessing over acknowledging uncertainty, leading to a need for socio-technical changes in benchmark scoring.",
  repo: "https://github.com/example/hallucinate",
  stars: 1234,
  authors: ["Adam Tauman Kalai", "Ofir Nachum", "Santosh S. Vempala", "Edwin Zhang"],
};

const get = async (url: string) => {
  const r = await fetch(url, { redirect: "manual" });
  return { status: r.status, headers: r.headers, text: await r.text() };
};

describe("the reader's web", () => {
  it("shows a digest as a web page: every paper with its full abstract, its list day, the digests around it, an anchor each", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    // A newer list day makes the next digest.
    await ingestFile(site.ctx, writeJsonDay(join(site.cwd, "dumps"), "2026-01-05", [HALLUCINATE]));
    await publishDigests(site.ctx, { retryUnknown: false });
    const first = await get(`${site.base}/digests/1`);
    expect(first.status).toBe(200);
    expect(first.text).toContain("<h1>Trending on Hugging Face · Dec 12</h1>");
    expect(first.text).toMatch(/4 papers listed on Dec 12, most upvoted first\./);
    // Nothing that only makes sense in an inbox.
    for (const words of ["View in your browser", "View this digest on the web", "You get this email", "Unsubscribe", "Change topics"]) expect(first.text).not.toContain(words);
    expect(first.text).toContain('rel="next" href="/digests/2"');
    expect(first.text).not.toContain('rel="prev"');
    expect((await get(`${site.base}/digests/2`)).text).toContain('rel="prev" href="/digests/1"');
    // The full abstract, not the email's cut, and an anchor the email's "And N more" can point at.
    const abstract = site.ctx.db.prepare("SELECT slug, abstract FROM papers WHERE title LIKE 'Return of the Encoder%'").get() as { slug: string; abstract: string };
    expect(abstract.abstract.length).toBeGreaterThan(400);
    expect(first.text).toContain(`id="paper-${abstract.slug}"`);
    expect(first.text.replace(/&#x27;|&#39;/g, "'")).toContain(abstract.abstract.replace(/\s+/g, " ").slice(-120).replace(/&/g, "&amp;"));
    expect(first.text).toContain(`href="${site.base}/papers/${abstract.slug}"`);
  });

  it("gives every paper a page of its own with its summary, stars, authors and the digest that carried it", async () => {
    const site = await startSite();
    const file = writeJsonDay(join(site.cwd, "dumps"), "2025-09-08", [HALLUCINATE, { id: "2509.00002", title: "A Quieter Paper", abstract: "We study quiet things.", upvotes: 3 }]);
    await ingestFile(site.ctx, file);
    await publishDigests(site.ctx, { retryUnknown: false });
    const slug = (site.ctx.db.prepare("SELECT slug FROM papers WHERE arxiv_id = '2509.04664'").get() as { slug: string }).slug;
    const page = await get(`${site.base}/papers/${slug}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("public, max-age=300");
    expect(page.text).toContain("<h1>Why Language Models Hallucinate</h1>");
    expect(page.text).toContain(HALLUCINATE.summary);
    expect(page.text).toContain("Adam Tauman Kalai, Ofir Nachum, Santosh S. Vempala, Edwin Zhang");
    expect(page.text).toContain("listed on Hugging Face on Sep 8, 2025");
    expect(page.text).toContain('href="https://arxiv.org/abs/2509.04664"');
    expect(page.text).toContain('href="https://arxiv.org/pdf/2509.04664"');
    expect(page.text).toContain('href="https://github.com/example/hallucinate"');
    expect(page.text).toContain("★\u00a01.2k");
    expect(page.text).toMatch(/<a href="\/digests\/1">Trending on Hugging Face · Sep 8: Why Language Models Hallucinate and 1 more<\/a>/);
    expect((await get(`${site.base}/papers/0000000000000000`)).status).toBe(404);
    expect((await get(`${site.base}/papers/${"x".repeat(200)}`)).status).toBe(404);
  });

  it("shows the summary and the stars in the email, above the abstract and by the code link", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "reader@example.org", new Date().toISOString());
    await ingestFile(site.ctx, writeJsonDay(join(site.cwd, "dumps"), "2025-09-08", [HALLUCINATE]));
    await publishDigests(site.ctx, { retryUnknown: false });
    const mail = await site.smtp.parse(site.smtp.received[0]!);
    const html = mail.html as string;
    expect(html.indexOf(HALLUCINATE.summary)).toBeGreaterThan(0);
    expect(html.indexOf(HALLUCINATE.summary)).toBeLessThan(html.indexOf("Like students facing hard exam questions"));
    expect(html).toMatch(/<a href="https:\/\/github.com\/example\/hallucinate">Code<\/a> <span[^>]*>★\u00a01.2k<\/span>/);
    expect(mail.text).toContain("Code: https://github.com/example/hallucinate (★ 1.2k)");
    // The header names the list day once, the body the date it was made.
    expect(html).toContain(">Trending on Hugging Face · Sep 8</h1>");
    expect(html).toMatch(/Daily digest · [A-Z][a-z]{2} \d{1,2}, \d{4}/);
    expect(html.match(/trending papers/gi)).toBeNull();
  });

  it("tells a reader with topics which of them each paper matched", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "speech@example.org", new Date().toISOString(), { choices: { topics: ["speech", "hallucinate"] } });
    await ingestFile(site.ctx, writeJsonDay(join(site.cwd, "dumps"), "2025-09-08", [HALLUCINATE, { id: "2509.00003", title: "Speech Models That Listen", abstract: "A speech model.", upvotes: 9 }]));
    await publishDigests(site.ctx, { retryUnknown: false });
    const mail = await site.smtp.parse(site.smtp.received[0]!);
    expect(mail.html).toContain("matches hallucinate");
    expect(mail.html).toContain("matches speech");
    expect(mail.text).toMatch(/^   matches speech · #\d of 2 on Sep 8$/m);
  });

  it("searches every stored paper: ranked, words marked, paged; any input gives results or an empty page, never an error", async () => {
    const p = project();
    await p.cli(["ingest", ...SAMPLE_FILES]);
    const site = await startSite({ env: { PAPERMAIL_DB: join(p.cwd, "var", "papermail.db") } });
    const search = (q: string, page?: number) => get(`${site.base}/search?q=${encodeURIComponent(q)}${page ? `&page=${page}` : ""}`);

    // A title word beats the same word deep in an abstract.
    const speech = await search("speech");
    expect(speech.status).toBe(200);
    expect(speech.text).toMatch(/\d+ papers? match/);
    const firstTitle = /<article class="paper"[^>]*>\s*<h2><a [^>]*>([\s\S]*?)<\/a><\/h2>/.exec(speech.text)![1]!;
    expect(firstTitle.toLowerCase()).toContain("<mark>speech</mark>");
    expect(speech.text).toContain("<mark>");

    // Paging: 20 a page, the next page continues where the first stopped.
    const model = await search("model");
    const ids = (text: string) => [...text.matchAll(/<article class="paper" id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids(model.text)).toHaveLength(20);
    expect(model.text).toMatch(/href="\/search\?q(=|&#x3D;)model&amp;page(=|&#x3D;)2"/);
    const second = await search("model", 2);
    expect(ids(second.text).length).toBeGreaterThan(0);
    expect(ids(second.text).some((id) => ids(model.text).includes(id))).toBe(false);

    // No paper has all the words: those with some of them, and it says so.
    expect((await search("speech zzzyzzx")).text).toContain("No paper has all of these words");
    // Query syntax is data.
    for (const q of ['"', "(", "AND", "NEAR(a b)", "title:speech", "*", "-", "' OR 1=1 --", "\u0000", "🙂", "x".repeat(5000), "a".repeat(40) + " " + "b".repeat(40)]) {
      const r = await search(q);
      expect(r.status, q).toBe(200);
    }
    expect((await search("zzzyzzx")).text).toContain("No paper matches");
    for (const page of ["0", "-1", "abc", "1e9", "99999999999999999999"]) expect((await get(`${site.base}/search?q=model&page=${page}`)).status).toBe(200);
    expect((await get(`${site.base}/search`)).text).toContain("<h1");
    // The box is on every page, with the query in it on the results page.
    expect((await get(`${site.base}/digests`)).text).toContain('role="search"');
    expect((await search("speech")).text).toContain('name="q" value="speech"');
  });

  it("papers --search finds the same papers from the command line", async () => {
    const p = project();
    await p.cli(["ingest", ...SAMPLE_FILES]);
    const r = await p.cli(["papers", "--search", "speech recognition", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { query: string; total: number; match: string; papers: Array<{ title: string; url: string; snippet: string }> };
    expect(out.total).toBeGreaterThan(0);
    expect(out.papers[0]!.title.toLowerCase()).toContain("speech");
    expect(out.papers[0]!.url).toMatch(/\/papers\/[a-z0-9]+$/);
    const plain = await p.cli(["papers", "--search", "speech"]);
    expect(plain.stdout).toMatch(/papers? match/);
    expect((await p.cli(["papers", "--search", '"('])).code).toBe(0);
  });

  it("sells the email on the front page: the latest digest's top papers, then the archive", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, writeJsonDay(join(site.cwd, "dumps"), "2025-09-08", [HALLUCINATE, { id: "2509.00002", title: "A Quieter Paper", abstract: "We study quiet things at length.", upvotes: 3 }]));
    await publishDigests(site.ctx, { retryUnknown: false });
    const home = await get(`${site.base}/`);
    expect(home.text).toContain("Trending on Hugging Face · Sep 8: the top of the latest digest");
    // The one-line summary when there is one, else the start of the abstract.
    expect(home.text).toContain(HALLUCINATE.summary);
    expect(home.text).not.toContain("Like students facing hard exam questions");
    expect(home.text).toContain("We study quiet things at length.");
    expect(home.text.indexOf("A Quieter Paper")).toBeGreaterThan(home.text.indexOf("Why Language Models Hallucinate"));
    expect(home.text.indexOf("Latest digests")).toBeGreaterThan(home.text.indexOf("A Quieter Paper"));
  });

  it("has an <h1> on every page and a favicon", async () => {
    const site = await startSite();
    await ingestFile(site.ctx, SAMPLE_FILES[0]!);
    await publishDigests(site.ctx, { retryUnknown: false });
    for (const path of ["/", "/digests", "/digests/1", "/search", "/search?q=encoder", "/nope", "/digests/99", "/unsubscribe/bad"]) {
      expect((await get(site.base + path)).text, path).toMatch(/<h1[ >]/);
    }
    const ico = await fetch(`${site.base}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get("content-type")).toBe("image/x-icon");
    const bytes = Buffer.from(await ico.arrayBuffer());
    expect(bytes.readUInt16LE(2)).toBe(1);
    expect(bytes.subarray(22, 26).toString("latin1")).toBe("\x89PNG");
    expect((await fetch(`${site.base}/favicon.svg`)).headers.get("content-type")).toBe("image/svg+xml");
  });

  it("shows every paper of a digest on its web page, and the email's 'And N more' links there", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    const long = `${ABSTRACT} ${"More words about the method and its results. ".repeat(30)}`;
    const blocks = Array.from({ length: 120 }, (_, i) => `Paper Number ${i} With A Rather Long Title About Something Important\n\n${long}\n\n  • 3 authors\n·\nDec 1 ${i}`);
    const file = join(tempDir(), "big.txt");
    writeFileSync(file, `${HEADER}${blocks.join("\n\n")}\n`);
    await ingestFile(site.ctx, file);
    const result = await publishDigests(site.ctx, { retryUnknown: false, maxPapers: 120 });
    const id = result.digests[0]!.digestId;
    await site.mailCount(1);
    const email = (await site.smtp.parse(site.smtp.received[0]!)).html as string;
    const more = /And (\d+) more in <a href="([^"]+)"/.exec(email);
    expect(more).not.toBeNull();
    // It lands on the first paper the email left out: the page holds them all, in the email's order.
    const url = more![2]!.replace(/&#x3D;/g, "=");
    expect(url).toMatch(new RegExp(`^${site.base}/digests/${id}#paper-[a-z0-9]+$`));
    const page = await (await fetch(url)).text();
    const order = (html: string) => [...html.matchAll(/<h2[^>]*><a [^>]*>Paper Number (\d+) With/g)].map((m) => m[1]);
    const inEmail = order(email);
    const onPage = order(page);
    expect(onPage).toHaveLength(120);
    expect(onPage.slice(0, inEmail.length)).toEqual(inEmail);
    const anchored = new RegExp(`id="${url.split("#")[1]}">\\s*<h2><a [^>]*>Paper Number (\\d+) With`).exec(page)!;
    expect(anchored[1]).toBe(onPage[inEmail.length]);
  });
});

describe("the steps around subscribing", () => {
  const linkIn = (text: string, kind: string) => new RegExp(`https?://[^\\s"<>]+/${kind}/[A-Za-z0-9_.-]+`).exec(text)![0];

  it("says what the reader chose and when the first email comes; the confirmation email repeats the choices", async () => {
    const site = await startSite({ env: { PAPERMAIL_DIGEST_CRON: "0 8 * * *", PAPERMAIL_TZ: "UTC" } });
    await site.post("/subscribe", { email: "new@example.org", cadence: "weekly", topics: "speech", format: "compact" });
    await site.mailCount(1);
    const confirmation = await site.smtp.parse(site.smtp.received[0]!);
    const choices = "the weekly digest of papers on speech, compact (titles and links)";
    expect(confirmation.text).toContain(`You will get ${choices}`);
    expect(confirmation.html).toContain(`You will get ${choices}.`);
    expect(confirmation.html).toContain("<h1");
    const confirmed = await site.post(new URL(linkIn(confirmation.text!, "confirm")).pathname, "");
    const page = await confirmed.text();
    expect(page).toContain("You are subscribed");
    expect(page).toContain(`You will get ${choices}.`);
    expect(page).toMatch(/Your first email is the next weekly digest, planned for [A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2} at \d\d:\d\d UTC\./);
    expect(page).toContain("/preferences/");
  });

  it("unsubscribes from the preferences page, undoes it with one signed click, and a used link says already unsubscribed", async () => {
    const { site, mail: digest } = await siteWithDigest();
    const preferences = await get(linkIn(digest.html as string, "preferences"));
    const action = /<form method="post" action="(\/unsubscribe\/[^"]+)">[\s\S]*?<button type="submit">Unsubscribe<\/button>/.exec(preferences.text)![1]!;
    const status = () => (site.ctx.db.prepare("SELECT status FROM subscribers WHERE email = 'ada@example.org'").get() as { status: string }).status;

    const unsubscribed = await (await site.post(action, "")).text();
    expect(unsubscribed).toContain("You are unsubscribed");
    expect(status()).toBe("unsubscribed");
    const undo = /<form method="post" action="(\/resubscribe\/[^"]+)"/.exec(unsubscribed)![1]!;
    // Opening the undo link (a scanner) changes nothing; the button does.
    await get(site.base + undo);
    expect(status()).toBe("unsubscribed");
    const back = await (await site.post(undo, "")).text();
    expect(back).toContain("You are subscribed again");
    expect(status()).toBe("active");

    // The email's own link, used with one click, then opened again: "already unsubscribed", with the undo.
    const emailLink = linkIn(digest.html as string, "unsubscribe");
    expect((await fetch(emailLink, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" })).status).toBe(200);
    const again = await get(emailLink);
    expect(again.text).toContain("You are already unsubscribed");
    expect(again.text).not.toContain(">Unsubscribe</button>");
    expect(again.text).toContain('action="/resubscribe/');
    // A forged undo is a 404; an address that bounced is not restored from a link.
    expect((await site.post("/resubscribe/1.1.AAAAAAAAAAAAAAAAAAAAAA", "")).status).toBe(404);
    site.ctx.db.prepare("UPDATE subscribers SET status = 'bounced' WHERE email = 'ada@example.org'").run();
    expect((await site.post(undo, "")).status).toBe(409);
    expect(status()).toBe("bounced");
  });
});
