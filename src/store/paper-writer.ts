import type { Paper } from "../model/paper.js";
import { paperSlug, sameAbstract } from "../model/paper.js";
import type { Db } from "./db.js";
import type { SearchText } from "./search-db.js";

/* Storing a dump's papers: never twice, with the newest upvote count (the papers table as ingest writes it). */

interface KnownRow {
  id: number;
  key: string;
  slug: string;
  arxiv_id: string | null;
  demo: number;
  abstract: string | null;
  authors_count: number | null;
  org_handle: string | null;
  published_on: string | null;
  upvotes: number;
  upvotes_at: string | null;
  list_day: string;
  code_url: string | null;
  captured_at: string;
}

/** Counts of what one batch of papers did to the table. */
export interface UpsertCounts {
  new: number;
  updated: number;
}

/**
 * Inserts unknown papers and refreshes known ones: a newer capture sets upvotes and
 * fills details an older one lacked; first-seen never changes. Call inside a transaction.
 */
export function upsertPapers(db: Db, papers: readonly Paper[], at: CaptureInfo): UpsertCounts {
  const writer = createPaperWriter(db, at);
  for (const p of papers) writer.write(p);
  return writer.counts;
}

export interface CaptureInfo {
  capturedAt: string;
  seenAt: string;
  dumpId: number;
  /**
   * The list day of the dump's papers: the page date of page text; for JSON, the day a
   * fetch asked for or the capture day (an entry's own submittedOnDailyAt comes first).
   */
  listDay: string;
  /** A bundled sample read by an unconfigured installation: its new papers are demo papers. */
  demo?: boolean;
  /** Told of each new paper with its text as stored, for an index built beside the write. */
  onNewPaper?: (id: number, text: SearchText) => void;
}

/**
 * Writes the papers of one dump, one at a time, inside the caller's transaction.
 * A paper repeated within the same dump is one paper, counted once. A stored
 * paper with the same key but a clearly different abstract is another paper:
 * both are kept, the newcomer under a variant of the key, and neither is overwritten.
 */
export function createPaperWriter(db: Db, at: CaptureInfo): { write(p: Paper): void; readonly counts: UpsertCounts; readonly distinct: number } {
  const columns = "id, key, slug, abstract, authors_count, org_handle, published_on, upvotes, upvotes_at, list_day, code_url, captured_at, arxiv_id, demo";
  const bySlug = db.prepare<[string], KnownRow>(`SELECT ${columns} FROM papers WHERE slug = ?`);
  const byArxivId = db.prepare<[string], KnownRow>(`SELECT ${columns} FROM papers WHERE arxiv_id = ?`);
  const byAlias = db.prepare<[string], KnownRow>(`SELECT ${columns} FROM papers WHERE id = (SELECT paper_id FROM paper_aliases WHERE ident = ?)`);
  // Aliases exist only in databases that predate the current keys: skip the look-up otherwise.
  const hasAliases = db.prepare("SELECT 1 FROM paper_aliases LIMIT 1").get() !== undefined;
  // Positional parameters: binding by name costs more on dumps of tens of thousands of papers.
  const insert = db.prepare(`INSERT INTO papers (key, slug, title, abstract, authors_count, org_handle, org_name, published_on, upvotes,
      code_url, links, captured_at, first_seen_at, last_seen_at, first_dump_id, arxiv_id, authors, github_repo, project_page, num_comments,
      keywords, thumbnail, demo, list_day, upvotes_at, ai_summary, github_stars, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const refresh = db.prepare(`UPDATE papers SET
      abstract = coalesce(?, abstract), authors_count = coalesce(?, authors_count),
      org_handle = coalesce(?, org_handle), org_name = coalesce(?, org_name),
      published_on = coalesce(?, published_on), upvotes = ?, upvotes_at = ?, list_day = ?,
      code_url = coalesce(?, code_url), links = CASE WHEN ? IS NULL THEN links ELSE ? END,
      captured_at = ?, last_seen_at = ?
    WHERE id = ?`);
  // What only JSON knows fills in whatever capture brings it, newer or older; seen in a real dump, a paper is no demo.
  const enrich = db.prepare(`UPDATE papers SET arxiv_id = coalesce(arxiv_id, ?), authors = coalesce(?, authors),
      github_repo = coalesce(?, github_repo), project_page = coalesce(?, project_page), num_comments = coalesce(?, num_comments),
      keywords = coalesce(?, keywords), thumbnail = coalesce(?, thumbnail), ai_summary = coalesce(?, ai_summary),
      github_stars = CASE WHEN ? IS NOT NULL AND ? THEN ? ELSE github_stars END, demo = demo AND ?,
      withdrawn_at = CASE WHEN ? THEN ? ELSE coalesce(withdrawn_at, ?) END WHERE id = ?`);
  const touch = db.prepare("UPDATE papers SET last_seen_at = max(last_seen_at, ?), upvotes = ?, upvotes_at = ?, list_day = ? WHERE id = ?");
  const counts: UpsertCounts = { new: 0, updated: 0 };
  const inThisDump = new Set<string>();
  const newIds = new Set<number>();
  const textOf = db.prepare<[number], { title: string; abstract: string | null; authors: string | null; org_name: string | null; org_handle: string | null; keywords: string | null; ai_summary: string | null }>(
    "SELECT title, abstract, authors, org_name, org_handle, keywords, ai_summary FROM papers WHERE id = ?",
  );

  /** The stored paper of this identity, or the free slug a new one gets. */
  function lookup(identity: string): { known: KnownRow | undefined; slug: string } {
    // Two keys sharing a short hash: the later one gets a longer id.
    for (let length = 16; length <= 64; length += 4) {
      const slug = paperSlug(identity, length);
      const row = bySlug.get(slug);
      if (row?.key === identity) return { known: row, slug };
      const aliased = hasAliases ? byAlias.get(slug) : undefined;
      if (aliased) return { known: aliased, slug: aliased.slug };
      if (!row) return { known: undefined, slug };
    }
    throw new Error(`no free id for paper key "${identity}"`);
  }

  return {
    counts,
    get distinct() {
      return inThisDump.size;
    },
    write(p: Paper) {
      let identity = p.key;
      // An arXiv id is a paper's identity once known; a title-keyed paper without one is the same paper.
      const byId = p.arxivId ? byArxivId.get(p.arxivId) : undefined;
      let found: { known: KnownRow | undefined; slug: string } = byId ? { known: byId, slug: byId.slug } : lookup(identity);
      if (byId) identity = byId.key;
      const conflicts = (k: KnownRow) => !sameAbstract(k.abstract, p.abstract) || Boolean(p.arxivId && k.arxiv_id && k.arxiv_id !== p.arxivId);
      for (let variant = 2; !byId && found.known && conflicts(found.known); variant++) {
        found = lookup((identity = `${p.key}\u0001${variant}`));
      }
      const { known, slug } = found;
      const links = JSON.stringify(p.links);
      const listDay = p.listDay ?? at.listDay;
      const repeat = inThisDump.has(identity);
      inThisDump.add(identity);
      const authors = p.authors ? JSON.stringify(p.authors) : null;
      const keywords = p.keywords ? JSON.stringify(p.keywords) : null;
      if (!known) {
        const { lastInsertRowid } = insert.run(identity, slug, p.title, p.abstract, p.authorsCount, p.orgHandle, p.orgName, p.publishedOn, p.upvotes ?? 0,
          p.codeUrl, links, at.capturedAt, at.seenAt, at.seenAt, at.dumpId, p.arxivId ?? null, authors, p.githubRepo ?? null,
          p.projectPage ?? null, p.numComments ?? null, keywords, p.thumbnail ?? null, at.demo ? 1 : 0, listDay, p.upvotes === null ? null : at.capturedAt,
          p.summary ?? null, p.githubStars ?? null, p.withdrawnAt ?? null);
        at.onNewPaper?.(Number(lastInsertRowid), [p.title, p.abstract, authors, p.orgName, p.orgHandle, keywords, p.summary ?? null]);
        if (at.onNewPaper) newIds.add(Number(lastInsertRowid));
        counts.new++;
        return;
      }
      const count = countWins(known, p.upvotes, at.capturedAt);
      const upvotes = count ? p.upvotes! : known.upvotes;
      const upvotesAt = count ? at.capturedAt : known.upvotes_at;
      // A paper listed again later keeps the day it was first listed: that is when it was news.
      const day = listDay < known.list_day ? listDay : known.list_day;
      if (!repeat && (upvotes !== known.upvotes || day !== known.list_day)) counts.updated++;
      else if (!repeat && at.capturedAt >= known.captured_at && changes(known, p)) counts.updated++;
      if (at.capturedAt >= known.captured_at) {
        refresh.run(p.abstract, p.authorsCount, p.orgHandle, p.orgName, p.publishedOn, upvotes, upvotesAt, day, p.codeUrl, p.abstract, links, at.capturedAt, at.seenAt, known.id);
      } else {
        // An older capture than the one we hold: its details are stale, its count may not be.
        touch.run(at.seenAt, upvotes, upvotesAt, day, known.id);
      }
      // Page text has none of these and most papers are no demo: a known paper is then not written twice.
      if (p.arxivId !== undefined || (known.demo && !at.demo)) {
        // Stars come from the newest capture that counted them.
        const stars = p.githubStars ?? null;
        const newer = at.capturedAt >= known.captured_at ? 1 : 0;
        enrich.run(p.arxivId ?? null, authors, p.githubRepo ?? null, p.projectPage ?? null, p.numComments ?? null, keywords, p.thumbnail ?? null,
          p.summary ?? null, stars, newer, stars, at.demo ? 1 : 0, newer, p.withdrawnAt ?? null, p.withdrawnAt ?? null, known.id);
      }
      // A paper new in this dump and met again in it: its text as it is now goes to the index again.
      if (newIds.has(known.id)) {
        const t = textOf.get(known.id)!;
        at.onNewPaper!(known.id, [t.title, t.abstract, t.authors, t.org_name, t.org_handle, t.keywords, t.ai_summary]);
      }
    },
  };
}

/**
 * True when a capture's count replaces the stored one: the stored paper has none, or
 * this capture is newer. Two captures of the same moment (file names with one date)
 * cannot be told apart: the higher count stands, so neither order lowers it.
 */
function countWins(known: KnownRow, upvotes: number | null, capturedAt: string): boolean {
  if (upvotes === null) return false;
  if (known.upvotes_at === null || capturedAt > known.upvotes_at) return true;
  return capturedAt === known.upvotes_at && upvotes > known.upvotes;
}

/** True when a newer capture fills in a detail the stored paper lacked. */
function changes(known: KnownRow, p: Paper): boolean {
  return (
    (known.abstract === null && p.abstract !== null) ||
    (known.authors_count === null && p.authorsCount !== null) ||
    (known.org_handle === null && p.orgHandle !== null) ||
    (known.published_on === null && p.publishedOn !== null) ||
    (known.code_url === null && p.codeUrl !== null)
  );
}
