import type { StoredPaper } from "../../src/model/paper.js";

/** A stored paper as the database gives it back: every field present, the unknown ones null. */
export function storedPaper(fields: Partial<StoredPaper> & Pick<StoredPaper, "id" | "slug" | "title">): StoredPaper {
  return {
    abstract: null,
    authorsCount: null,
    orgHandle: null,
    orgName: null,
    publishedOn: null,
    upvotes: 0,
    codeUrl: null,
    links: [],
    firstSeenAt: "",
    lastSeenAt: "",
    listDay: "2024-12-12",
    upvotesAt: null,
    arxivId: null,
    authors: null,
    githubRepo: null,
    projectPage: null,
    numComments: null,
    keywords: null,
    thumbnail: null,
    summary: null,
    githubStars: null,
    withdrawnAt: null,
    ...fields,
  };
}
