import { oneLine, unwrapParagraphs } from "../model/text.js";
import type { Db } from "./db.js";

/** Rewrites stored titles and abstracts that still carry line wraps (run by migration 011). */
export function unwrapStoredText(db: Db): void {
  const rows = db
    .prepare<[], { id: number; title: string; abstract: string | null }>(
      "SELECT id, title, abstract FROM papers WHERE title GLOB '*[\t\n\r]*' OR title GLOB '*  *' OR abstract GLOB '*[\t\r]*' OR abstract GLOB '*[^\n]\n[^\n]*' OR abstract GLOB '*  *'",
    )
    .all();
  const update = db.prepare("UPDATE papers SET title = ?, abstract = ? WHERE id = ?");
  for (const row of rows) {
    const abstract = row.abstract === null ? null : unwrapParagraphs(row.abstract) || null;
    update.run(oneLine(row.title), abstract, row.id);
  }
}
