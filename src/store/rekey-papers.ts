import { paperKey, paperSlug } from "../model/paper.js";
import type { Db } from "./db.js";

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
