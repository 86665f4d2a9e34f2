// Worker thread: parses one dump and streams its papers to the store worker.
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { scanDump } from "../dump/parse.js";
import { type Paper } from "../model/paper.js";
import type { ParseMessage } from "./ingest-workers.js";
import { yieldToTheSite } from "../work/priority.js";
import { takeCredit } from "../work/credits.js";

yieldToTheSite();

const BATCH = 2000;
const { bytes, capturedAt, port, credits } = workerData as { bytes: ArrayBuffer; capturedAt: string; port: MessagePort; credits: SharedArrayBuffer };
const send = (m: ParseMessage) => port.postMessage(m);
// At most a few batches wait in the store worker: parsing runs ahead of storing, and its papers must not pile up there.
const sendPapers = (papers: Paper[]) => {
  takeCredit(credits);
  send({ type: "papers", papers });
};
let batch: Paper[] = [];
try {
  const { problems } = scanDump(Buffer.from(bytes), { capturedAt: new Date(capturedAt) }, {
    header: (pageDate) => send({ type: "header", pageDate }),
    progress: (bytesRead) => parentPort!.postMessage({ type: "progress", bytesRead }),
    paper: (paper) => {
      batch.push(paper);
      if (batch.length >= BATCH) {
        sendPapers(batch);
        batch = [];
      }
    },
  });
  if (batch.length > 0) sendPapers(batch);
  send({ type: "end", problems });
} catch (err) {
  const e = err as { code?: string; message?: string };
  send({ type: "error", code: e.code, message: e.message ?? String(err) });
}
port.close();
