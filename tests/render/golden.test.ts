import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { scanJsonDump } from "../../src/dump/parse-json.js";
import type { Paper, StoredPaper } from "../../src/model/paper.js";
import { DEFAULT_CHOICES } from "../../src/model/choices.js";
import { comparePapers } from "../../src/model/rank.js";
import { topicMatcher } from "../../src/model/topics.js";
import { renderDigestMessage, type DigestContent, type DigestMessage } from "../../src/render/digest-message.js";
import { renderAtom } from "../../src/render/feed-atom.js";
import type { FeedItem, FeedMeta } from "../../src/render/feed-items.js";
import { renderJsonFeed } from "../../src/render/feed-json.js";
import { renderFeed } from "../../src/render/feed.js";
import { fillRecipient } from "../../src/render/recipient-marks.js";
import { buildMessageTemplate } from "../../src/render/mime.js";
import { memoizedQpLines } from "../../src/render/quoted-printable.js";
import { FIXTURES, tempDir } from "../helpers/files.js";
import { storedPaper } from "../helpers/papers.js";

/*
 * What readers receive, byte for byte: the email's HTML and text parts and each feed
 * format, rendered from a recorded daily_papers answer and compared with the files in
 * tests/fixtures/golden/. A change to what readers see shows up in the diff of those
 * files: regenerate them on purpose with `UPDATE_GOLDEN=1 npx vitest run tests/render/golden.test.ts`
 * and review the diff before committing.
 */
const GOLDEN = join(FIXTURES, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

function matchesGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (UPDATE || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    if (!UPDATE) throw new Error(`${name} did not exist: written now; review it and run the test again`);
  }
  // Compared as text so that a difference shows where it is.
  expect(actual, `${name} differs from tests/fixtures/golden/${name} (UPDATE_GOLDEN=1 regenerates it)`).toBe(readFileSync(file, "utf8"));
}

/** The recorded day's papers, as the store gives them back after ingesting it. */
function recordedPapers(): StoredPaper[] {
  const papers: Paper[] = [];
  scanJsonDump(readFileSync(join(FIXTURES, "daily_papers", "2024-12-12.json")), { header() {}, paper: (p) => papers.push(p) });
  return papers
    .map((p, i) =>
      storedPaper({
        ...p,
        id: i + 1,
        upvotes: p.upvotes ?? 0,
        firstSeenAt: "2024-12-12T18:00:00.000Z",
        lastSeenAt: "2024-12-12T18:00:00.000Z",
        listDay: "2024-12-12",
        upvotesAt: "2024-12-12T18:00:00.000Z",
        arxivId: p.arxivId ?? null,
        authors: p.authors ?? null,
        githubRepo: p.githubRepo ?? null,
        projectPage: p.projectPage ?? null,
        numComments: p.numComments ?? null,
        keywords: p.keywords ?? null,
        thumbnail: p.thumbnail ?? null,
        summary: p.summary ?? null,
        githubStars: p.githubStars ?? null,
      }),
    )
    .sort(comparePapers);
}

const config = () =>
  loadConfig(
    { PAPERMAIL_PUBLIC_URL: "https://papers.example.org", PAPERMAIL_FROM: "Trending Papers <digest@papers.example.org>", PAPERMAIL_SMTP_URL: "smtp://relay.example.org", PAPERMAIL_SECRET: "g".repeat(40) },
    tempDir(),
  );

const digest = (papers: StoredPaper[]): DigestContent => ({
  id: 42,
  edition: "daily",
  papers,
  days: { from: "2024-12-12", through: "2024-12-12" },
  createdAt: "2024-12-13T08:00:00.000Z",
});

const reader = {
  recipient: "ada@example.org",
  unsubscribeUrl: "https://papers.example.org/unsubscribe/TOKEN",
  preferencesUrl: "https://papers.example.org/preferences/TOKEN",
};

describe("what readers receive, byte for byte", () => {
  it("the email's HTML and text parts, full and compact", async () => {
    const papers = recordedPapers();
    const full = fillRecipient(await renderDigestMessage(config(), digest(papers)), reader);
    matchesGolden("digest-full.html", full.html);
    matchesGolden("digest-full.txt", full.text);
    const choices = { ...DEFAULT_CHOICES, format: "compact" as const, minUpvotes: 10 };
    const compact = fillRecipient(await renderDigestMessage(config(), digest(papers), { choices, papers: papers.filter((p) => p.upvotes >= 10) }), reader);
    matchesGolden("digest-compact.html", compact.html);
    matchesGolden("digest-compact.txt", compact.text);
  });

  it("a topic reader's email: their papers with why each is there, then Also trending", async () => {
    const papers = recordedPapers();
    const ranks = new Map(papers.map((p, i) => [p.id, { rank: i + 1, of: papers.length, day: p.listDay }]));
    const choices = { ...DEFAULT_CHOICES, topics: ["retrieval", "encoder"] };
    const matches = topicMatcher(choices.topics);
    const own = papers.filter((p) => matches(p).length > 0);
    const also = papers.filter((p) => matches(p).length === 0).slice(0, choices.alsoTrending);
    const mail = fillRecipient(await renderDigestMessage(config(), { ...digest(papers), ranks }, { choices, papers: own, also, ranks }), reader);
    expect(own.length).toBeGreaterThan(0);
    matchesGolden("digest-topics.html", mail.html);
    matchesGolden("digest-topics.txt", mail.text);
  });

  it("the groups of one send share their papers' blocks, and each message is byte for byte what it is rendered alone", async () => {
    const papers = recordedPapers();
    const ranks = new Map(papers.map((p, i) => [p.id, { rank: i + 1, of: papers.length, day: p.listDay }]));
    const content = { ...digest(papers), ranks };
    const topics = (...t: string[]) => ({ ...DEFAULT_CHOICES, topics: t });
    const own = (t: string[]) => papers.filter((p) => topicMatcher(t)(p).length > 0);
    const groups = [
      undefined,
      { choices: topics("encoder", "retrieval"), papers: own(["encoder", "retrieval"]), ranks },
      { choices: { ...topics("encoder", "retrieval"), alsoTrending: 0 }, papers: own(["encoder", "retrieval"]), also: papers.slice(0, 2), ranks },
      { choices: { ...topics("retrieval"), format: "compact" as const }, papers: own(["retrieval"]), ranks },
      { choices: topics("encoder"), papers: own(["encoder"]).slice(1), ranks },
    ];
    const encodeLine = memoizedQpLines();
    const values = { to: "ada@example.org", messageId: "m@papers.example.org", unsubscribeUrl: "https://papers.example.org/unsubscribe/T", preferencesUrl: "https://papers.example.org/preferences/T" };
    const messages: DigestMessage[] = [];
    for (const group of groups) {
      const message = await renderDigestMessage(config(), content, group);
      messages.push(message);
      const shared = Buffer.concat(buildMessageTemplate(message, message.headers, { encodeLine }).personalise(values));
      const alone = Buffer.concat(buildMessageTemplate({ subject: message.subject, html: message.html, text: message.text }, message.headers).personalise(values));
      expect(shared.equals(alone), `group ${groups.indexOf(group)}`).toBe(true);
      // Shared blocks change nothing: the same group from copies of the papers (no block shared with anyone) reads the same.
      const copy = (list: StoredPaper[]) => list.map((p) => structuredClone(p));
      const fresh = await renderDigestMessage(config(), { ...content, papers: copy(papers) }, group && { ...group, papers: copy(group.papers), also: group.also && copy(group.also) });
      expect(fresh.html).toBe(message.html);
      expect(fresh.text).toBe(message.text);
    }
    // The same papers with the same topics: one block each, whatever else the two messages say.
    const blocks = (i: number) => messages[i]!.segments!.html.filter((s) => typeof s !== "string");
    expect(blocks(1).length).toBeGreaterThan(1);
    expect(blocks(2)).toHaveLength(blocks(1).length);
    blocks(1).forEach((b, i) => expect(blocks(2)[i]).toBe(b));
  });

  it("each feed format", () => {
    const items: FeedItem[] = recordedPapers().map((p) => ({ ...p, digestCreatedAt: "2024-12-13T08:00:00.000Z" }));
    const meta: FeedMeta = {
      siteUrl: "https://papers.example.org/",
      feedUrl: "https://papers.example.org/feed.xml",
      updated: new Date("2024-12-13T08:00:00.000Z"),
      title: "papermail: trending papers",
      paperUrl: (slug) => `https://papers.example.org/papers/${slug}`,
    };
    matchesGolden("feed.xml", renderFeed(meta, items));
    matchesGolden("feed.atom", renderAtom({ ...meta, feedUrl: "https://papers.example.org/feed.atom" }, items));
    matchesGolden("feed.json", renderJsonFeed({ ...meta, feedUrl: "https://papers.example.org/feed.json" }, items));
  });
});
