// Worker thread: stores the papers the parse worker streams, in one transaction on its own connection.
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { openDatabase } from "../store/db.js";
import { recordDump, setDumpCounts, type DumpFacts } from "../store/dumps.js";
import { createPaperWriter } from "../store/papers.js";
import type { ParseMessage, WorkerOutcome } from "./ingest-workers.js";

const { dbPath, facts, port } = workerData as { dbPath: string; facts: DumpFacts; port: MessagePort };
const db = openDatabase(dbPath);
let writer: ReturnType<typeof createPaperWriter> | undefined;
let dumpId = 0;
let pageDate = "";

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
      writer = createPaperWriter(db, { capturedAt: facts.capturedAt, seenAt: facts.ingestedAt, dumpId, listDay: pageDate });
    } else if (m.type === "papers") {
      for (const p of m.papers) writer!.write(p);
    } else if (m.type === "end") {
      const counts = writer!.counts;
      setDumpCounts(db, dumpId, { papers: writer!.distinct, problems: m.problems.length, newPapers: counts.new, updatedPapers: counts.updated });
      db.exec("COMMIT");
      finish({ type: "stored", stored: { papers: writer!.distinct, new: counts.new, updated: counts.updated, problems: m.problems, pageDate } });
    } else {
      db.exec("ROLLBACK");
      if (m.code !== "DUMP_REJECTED") return finish({ type: "failed", message: m.message });
      recordDump(db, "rejected", { ...facts, error: m.message });
      finish({ type: "rejected", error: m.message });
    }
  } catch (err) {
    if (db.inTransaction) db.exec("ROLLBACK");
    finish({ type: "failed", message: (err as Error).message });
  }
});
