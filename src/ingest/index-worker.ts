// Worker thread: adds the papers the store worker writes to the search index, in the
// index's own database, beside the store's write; commits only once the store has.
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { openSearchDb, writeSearchState } from "../store/search-db.js";
import type { IndexMessage } from "./ingest-workers.js";
import { unpackRows } from "./search-rows.js";
import { giveCredit } from "../work/credits.js";
import { yieldToTheSite } from "../work/priority.js";

yieldToTheSite();

const { path, owner, port, credits } = workerData as { path: string; owner: string; port: MessagePort; credits: SharedArrayBuffer };
const search = openSearchDb(path);
const seen = new Set<number>();
// The bytes go in as they are: FTS5 reads a blob's bytes as the text they are.
const insert = search.prepare("INSERT INTO papers_search (rowid, title, abstract, authors, org_name, org_handle, keywords, ai_summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
const remove = search.prepare("DELETE FROM papers_search WHERE rowid = ?");
search.exec("BEGIN IMMEDIATE");
port.on("message", (m: IndexMessage) => {
  try {
    if (m.type === "papers") {
      // A paper met twice in one dump comes twice: its later text replaces the earlier.
      for (const row of unpackRows(m.packed, m.length)) {
        if (seen.has(row.id)) remove.run(row.id);
        insert.run(row.id, ...row.fields);
        seen.add(row.id);
      }
      giveCredit(credits);
    } else if (m.type === "commit") {
      writeSearchState(search, m.through, owner);
      search.exec("COMMIT");
      finish({ type: "indexed", through: m.through, papers: seen.size });
    } else {
      search.exec("ROLLBACK");
      finish({ type: "aborted" });
    }
  } catch (err) {
    if (search.inTransaction) search.exec("ROLLBACK");
    finish({ type: "failed", message: (err as Error).message });
  }
});

function finish(message: { type: "indexed"; through: number; papers: number } | { type: "aborted" } | { type: "failed"; message: string }) {
  port.close();
  search.close();
  parentPort!.postMessage(message);
}
