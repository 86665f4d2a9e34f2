import { describe, expect, it } from "vitest";
import type { StoredPaper } from "../../src/model/paper.js";
import { renderDigest } from "../../src/render/email.js";
import { feedEntries } from "../../src/render/feed-items.js";
import { linkRow, paperView } from "../../src/render/paper-view.js";

const paper: StoredPaper = {
  id: 1,
  slug: "0123456789abcdef",
  title: "Why Language Models\n  Hallucinate",
  abstract: "First paragraph.\n\nSecond   paragraph.",
  authorsCount: 3,
  orgHandle: "openai",
  orgName: "OpenAI",
  publishedOn: "2025-09-04",
  upvotes: 7,
  codeUrl: "https://github.com/example/hallucinate",
  links: [],
  firstSeenAt: "2025-09-08T10:00:00.000Z",
  lastSeenAt: "2025-09-08T10:00:00.000Z",
  listDay: "2025-09-08",
  upvotesAt: null,
  arxivId: "2509.04664",
  authors: ["Adam Kalai", "Ofir Nachum", "Santosh Vempala"],
  githubRepo: "https://github.com/example/hallucinate",
  projectPage: "https://openai.com/research",
  numComments: 2,
  keywords: null,
  thumbnail: null,
  summary: "Models guess.",
  githubStars: 1234,
};
const pageUrl = (slug: string) => `https://papers.example.org/papers/${slug}`;

describe("a paper's one view", () => {
  it("gives the email, the web pages and the feeds the same links, stars, byline, dates and text", async () => {
    const view = paperView(paper, { pageUrl });
    expect(linkRow(view).map((l) => l.label)).toEqual(["Hugging Face", "arXiv", "PDF", "Code", "Project page"]);
    expect(view).toMatchObject({ title: "Why Language Models Hallucinate", paragraphs: ["First paragraph.", "Second paragraph."], stars: "1.2k", publishedOn: "Sep 4, 2025", upvotesLabel: "?" });
    // The email, once disagreeing, now shows what the web page shows: a Hugging Face link for an arXiv paper, "?" for an unknown count.
    const email = await renderDigest("Subject", [paper], { siteUrl: "https://papers.example.org/", archiveUrl: "https://papers.example.org/digests/1", feedUrl: "https://papers.example.org/feed.xml" });
    for (const link of linkRow(view)) expect(email.html).toContain(`href="${link.url}"`);
    expect(email.html).toContain(">Hugging Face</a>");
    expect(email.html).toContain("▲ ?");
    expect(email.text).toContain("Hugging Face: https://huggingface.co/papers/2509.04664");
    const [entry] = feedEntries([{ ...paper, digestCreatedAt: "2025-09-09T08:00:00.000Z" }], pageUrl);
    for (const link of linkRow(view)) expect(entry!.html).toContain(`href="${link.url}"`);
    expect(entry!.html).toContain("<p>First paragraph.</p><p>Second paragraph.</p>");
    expect(entry!.text).toContain("▲ ? · Adam Kalai, Ofir Nachum, Santosh Vempala · OpenAI · 2 comments · published Sep 4, 2025");
  });

  it("emits only http(s) links, whatever a dump says", () => {
    const view = paperView({ ...paper, codeUrl: "javascript:alert(1)", projectPage: "data:text/html,x" }, { pageUrl });
    expect(linkRow(view).map((l) => l.label)).toEqual(["Hugging Face", "arXiv", "PDF"]);
  });
});
