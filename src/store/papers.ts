import type { Paper } from "../dump/parse.js";
import { paperKey, paperSlug, sameAbstract } from "../dump/paper-key.js";
import type { Db } from "./db.js";

/** A stored paper, as the digest, feed and CLI read it. */
export interface StoredPaper {
  id: number;
  slug: string;
  title: string;
  abstract: string | null;
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  publishedOn: string | null;
  upvotes: number;
  codeUrl: string | null;
  links: string[];
  firstSeenAt: string;
  lastSeenAt: string;
  /** Known when a daily_papers JSON dump named the paper. */
  arxivId: string | null;
  authors: string[] | null;
  githubRepo: string | null;
  projectPage: string | null;
  numComments: number | null;
  keywords: string[] | null;
  thumbnail: string | null;
}

/** The select list of a StoredPaper, for a query where the papers table is `alias`. */
export function paperColumns(alias = "papers"): string {
  const a = alias;
  return `${a}.id, ${a}.slug, ${a}.title, ${a}.abstract, ${a}.authors_count AS authorsCount, ${a}.org_handle AS orgHandle,
    ${a}.org_name AS orgName, ${a}.published_on AS publishedOn, ${a}.upvotes, ${a}.code_url AS codeUrl, ${a}.links,
    ${a}.first_seen_at AS firstSeenAt, ${a}.last_seen_at AS lastSeenAt, ${a}.arxiv_id AS arxivId, ${a}.authors, ${a}.github_repo AS githubRepo,
    ${a}.project_page AS projectPage, ${a}.num_comments AS numComments, ${a}.keywords, ${a}.thumbnail`;
}

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
  /** A bundled sample read by an unconfigured installation: its new papers are demo papers. */
  demo?: boolean;
}

/**
 * Writes the papers of one dump, one at a time, inside the caller's transaction.
 * A paper repeated within the same dump is one paper, counted once. A stored
 * paper with the same key but a clearly different abstract is another paper:
 * both are kept, the newcomer under a variant of the key, and neither is overwritten.
 */
export function createPaperWriter(db: Db, at: CaptureInfo): { write(p: Paper): void; readonly counts: UpsertCounts; readonly distinct: number } {
  const columns = "id, key, slug, abstract, authors_count, org_handle, published_on, upvotes, code_url, captured_at, arxiv_id, demo";
  const bySlug = db.prepare<[string], KnownRow>(`SELECT ${columns} FROM papers WHERE slug = ?`);
  const byArxivId = db.prepare<[string], KnownRow>(`SELECT ${columns} FROM papers WHERE arxiv_id = ?`);
  const byAlias = db.prepare<[string], KnownRow>(`SELECT ${columns} FROM papers WHERE id = (SELECT paper_id FROM paper_aliases WHERE ident = ?)`);
  // Aliases exist only in databases that predate the current keys: skip the look-up otherwise.
  const hasAliases = db.prepare("SELECT 1 FROM paper_aliases LIMIT 1").get() !== undefined;
  // Positional parameters: binding by name costs more on dumps of tens of thousands of papers.
  const insert = db.prepare(`INSERT INTO papers (key, slug, title, abstract, authors_count, org_handle, org_name, published_on, upvotes,
      code_url, links, captured_at, first_seen_at, last_seen_at, first_dump_id, arxiv_id, authors, github_repo, project_page, num_comments,
      keywords, thumbnail, demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const refresh = db.prepare(`UPDATE papers SET
      abstract = coalesce(?, abstract), authors_count = coalesce(?, authors_count),
      org_handle = coalesce(?, org_handle), org_name = coalesce(?, org_name),
      published_on = coalesce(?, published_on), upvotes = coalesce(?, upvotes),
      code_url = coalesce(?, code_url), links = CASE WHEN ? IS NULL THEN links ELSE ? END,
      captured_at = ?, last_seen_at = ?
    WHERE id = ?`);
  // What only JSON knows fills in whatever capture brings it, newer or older; seen in a real dump, a paper is no demo.
  const enrich = db.prepare(`UPDATE papers SET arxiv_id = coalesce(arxiv_id, ?), authors = coalesce(?, authors),
      github_repo = coalesce(?, github_repo), project_page = coalesce(?, project_page), num_comments = coalesce(?, num_comments),
      keywords = coalesce(?, keywords), thumbnail = coalesce(?, thumbnail), demo = demo AND ? WHERE id = ?`);
  const touch = db.prepare("UPDATE papers SET last_seen_at = max(last_seen_at, ?) WHERE id = ?");
  const counts: UpsertCounts = { new: 0, updated: 0 };
  const inThisDump = new Set<string>();

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
      const repeat = inThisDump.has(identity);
      inThisDump.add(identity);
      const authors = p.authors ? JSON.stringify(p.authors) : null;
      const keywords = p.keywords ? JSON.stringify(p.keywords) : null;
      if (!known) {
        insert.run(identity, slug, p.title, p.abstract, p.authorsCount, p.orgHandle, p.orgName, p.publishedOn, p.upvotes ?? 0,
          p.codeUrl, links, at.capturedAt, at.seenAt, at.seenAt, at.dumpId, p.arxivId ?? null, authors, p.githubRepo ?? null,
          p.projectPage ?? null, p.numComments ?? null, keywords, p.thumbnail ?? null, at.demo ? 1 : 0);
        counts.new++;
        return;
      } else if (at.capturedAt >= known.captured_at) {
        if (!repeat && changes(known, p)) counts.updated++;
        refresh.run(p.abstract, p.authorsCount, p.orgHandle, p.orgName, p.publishedOn, p.upvotes, p.codeUrl, p.abstract, links, at.capturedAt, at.seenAt, known.id);
      } else {
        // An older capture than the one we hold: its upvotes are stale.
        touch.run(at.seenAt, known.id);
      }
      // Page text has none of these and most papers are no demo: a known paper is then not written twice.
      if (p.arxivId !== undefined || (known.demo && !at.demo)) {
        enrich.run(p.arxivId ?? null, authors, p.githubRepo ?? null, p.projectPage ?? null, p.numComments ?? null, keywords, p.thumbnail ?? null, at.demo ? 1 : 0, known.id);
      }
    },
  };
}

/**
 * Recomputes every stored paper's key with today's paperKey, keeping its public
 * id: where the new key hashes elsewhere, an alias points at the paper. Run by the
 * migration that introduced the current keys.
 */
export function rekeyPapers(db: Db): void {
  const rows = db.prepare<[], { id: number; key: string; slug: string; title: string }>("SELECT id, key, slug, title FROM papers").all();
  const setKey = db.prepare("UPDATE papers SET key = ? WHERE id = ?");
  const alias = db.prepare("INSERT OR IGNORE INTO paper_aliases (ident, paper_id) VALUES (?, ?)");
  for (const row of rows) {
    const key = paperKey(row.title);
    if (key !== row.key) setKey.run(key, row.id);
    const ident = paperSlug(key);
    if (ident !== row.slug) alias.run(ident, row.id);
  }
}

function changes(known: KnownRow, p: Paper): boolean {
  return (
    (p.upvotes !== null && known.upvotes !== p.upvotes) ||
    (known.abstract === null && p.abstract !== null) ||
    (known.authors_count === null && p.authorsCount !== null) ||
    (known.org_handle === null && p.orgHandle !== null) ||
    (known.published_on === null && p.publishedOn !== null) ||
    (known.code_url === null && p.codeUrl !== null)
  );
}

/** Papers most upvoted first (ties: newest first), optionally only those in no digest. */
export function listPapers(db: Db, options: { unsentOnly?: boolean; limit?: number } = {}): StoredPaper[] {
  const where = options.unsentOnly ? "WHERE id NOT IN (SELECT paper_id FROM digest_papers)" : "";
  const rows = db
    .prepare<[number], StoredPaper & { links: string }>(
      `SELECT ${paperColumns()} FROM papers ${where} ORDER BY upvotes DESC, published_on DESC NULLS LAST, first_seen_at DESC, id DESC LIMIT ?`,
    )
    .all(options.limit ?? -1);
  return rows.map(fromRow);
}

/** Total stored papers and those not in any digest. */
export function countPapers(db: Db): { total: number; unsent: number } {
  return db
    .prepare<[], { total: number; unsent: number }>(
      "SELECT count(*) AS total, count(*) FILTER (WHERE id NOT IN (SELECT paper_id FROM digest_papers)) AS unsent FROM papers",
    )
    .get()!;
}

/** Decodes the JSON columns of a papers row. */
export function fromRow(row: StoredPaper & { links: unknown; authors: unknown; keywords: unknown }): StoredPaper {
  const list = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as string[]) : ((v as string[] | null | undefined) ?? null));
  return { ...row, links: list(row.links) ?? [], authors: list(row.authors), keywords: list(row.keywords) };
}

/** Which unsent papers `papers purge` removes. */
export type PurgeSelection = { dumpId: number } | { before: string } | { unsent: true };

/**
 * Papers that no digest carried yet and that match the selection (first seen in a
 * dump, first seen before a date, or all unsent), removed unless `dryRun`. A paper a
 * digest carried is never removed: the archive and feed show it.
 */
export function purgePapers(db: Db, selection: PurgeSelection, dryRun: boolean): Array<{ id: number; title: string }> {
  const [where, arg] =
    "dumpId" in selection ? ["first_dump_id = ?", selection.dumpId] : "before" in selection ? ["first_seen_at < ?", selection.before] : ["1 = ?", 1];
  const rows = db
    .prepare<[unknown], { id: number; title: string }>(`SELECT id, title FROM papers WHERE ${where} AND id NOT IN (SELECT paper_id FROM digest_papers) ORDER BY id`)
    .all(arg);
  if (!dryRun && rows.length > 0) {
    const remove = db.prepare("DELETE FROM papers WHERE id = ? AND id NOT IN (SELECT paper_id FROM digest_papers)");
    db.transaction(() => rows.forEach((r) => remove.run(r.id)))();
  }
  return rows;
}

/** Demo papers (from the bundled samples) still waiting, for `status`. */
export function countDemoPapers(db: Db): number {
  return db.prepare<[], { n: number }>("SELECT count(*) AS n FROM papers WHERE demo = 1 AND id NOT IN (SELECT paper_id FROM digest_papers)").get()!.n;
}
