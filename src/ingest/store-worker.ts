// Worker thread: stores the papers the parse worker streams, in one transaction on its own
// connection; hands each new paper's text to the index worker, when there is one.
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { openDatabase } from "../store/db.js";
import { recordDump, setDumpCounts, type DumpFacts } from "../store/dumps.js";
import { createPaperWriter } from "../store/paper-writer.js";
import type { SearchText } from "../store/search-db.js";
import { createRowPacker } from "./search-rows.js";
import { giveCredit, takeCredit } from "../work/credits.js";
import type { IndexMessage, ParseMessage, WorkerOutcome } from "./ingest-workers.js";
import { yieldToTheSite } from "../work/priority.js";

yieldToTheSite();

const { dbPath, facts, port, indexPort, indexFrom, parseCredits, indexCredits } = workerData as {
  dbPath: string;
  facts: DumpFacts;
  port: MessagePort;
  indexPort?: MessagePort;
  indexFrom: number;
  parseCredits: SharedArrayBuffer;
  indexCredits?: SharedArrayBuffer;
};
// A smaller page cache than a command's: three threads write at once, and memory is shared.
const db = openDatabase(dbPath, { cacheMb: 16 });
let writer: ReturnType<typeof createPaperWriter> | undefined;
let dumpId = 0;
let pageDate = "";
const rows = createRowPacker();
let through = indexFrom;
const toIndex = (m: IndexMessage) => indexPort?.postMessage(m);

function finish(message: WorkerOutcome | { type: "failed"; message: string }) {
  port.close();
  db.close();
  parentPort!.postMessage(message);
}

db.exec("BEGIN IMMEDIATE");
port.on("message", (m: ParseMessage) => {
  try {
    if (m.type === "header") {
      pageDate = m.pageDate;
      dumpId = recordDump(db, "ingested", { ...facts, pageDate });
      const onNewPaper = indexPort
        ? (id: number, text: SearchText) => {
            rows.add(id, text);
            through = Math.max(through, id);
          }
        : undefined;
      writer = createPaperWriter(db, { capturedAt: facts.capturedAt, seenAt: facts.ingestedAt, dumpId, listDay: pageDate, onNewPaper });
    } else if (m.type === "papers") {
      for (const p of m.papers) writer!.write(p);
      giveCredit(parseCredits);
      if (rows.size > 0) {
        // The index worker keeps a few batches at most waiting: beyond that, storing waits for indexing.
        takeCredit(indexCredits!);
        const { packed, length } = rows.take();
        indexPort?.postMessage({ type: "papers", packed, length } satisfies IndexMessage, [packed]);
      }
    } else if (m.type === "end") {
      const counts = writer!.counts;
      setDumpCounts(db, dumpId, { papers: writer!.distinct, problems: m.problems.length, newPapers: counts.new, updatedPapers: counts.updated });
      db.exec("COMMIT");
      // The index commits after the papers: a search never finds a paper that is not stored.
      toIndex({ type: "commit", through });
      finish({ type: "stored", stored: { papers: writer!.distinct, new: counts.new, updated: counts.updated, problems: m.problems, pageDate } });
    } else {
      db.exec("ROLLBACK");
      toIndex({ type: "abort" });
      if (m.code !== "DUMP_REJECTED") return finish({ type: "failed", message: m.message });
      recordDump(db, "rejected", { ...facts, error: m.message });
      finish({ type: "rejected", error: m.message });
    }
  } catch (err) {
    if (db.inTransaction) db.exec("ROLLBACK");
    toIndex({ type: "abort" });
    finish({ type: "failed", message: (err as Error).message });
  }
});
