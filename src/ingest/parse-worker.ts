// Worker thread: parses one dump and streams its papers to the store worker.
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { scanDump, type Paper } from "../dump/parse.js";
import type { ParseMessage } from "./ingest-workers.js";

const BATCH = 2000;
const { bytes, capturedAt, port } = workerData as { bytes: ArrayBuffer; capturedAt: string; port: MessagePort };
const send = (m: ParseMessage) => port.postMessage(m);
let batch: Paper[] = [];
try {
  const { problems } = scanDump(Buffer.from(bytes), { capturedAt: new Date(capturedAt) }, {
    header: (pageDate) => send({ type: "header", pageDate }),
    progress: (bytesRead) => parentPort!.postMessage({ type: "progress", bytesRead }),
    paper: (paper) => {
      batch.push(paper);
      if (batch.length >= BATCH) {
        send({ type: "papers", papers: batch });
        batch = [];
      }
    },
  });
  if (batch.length > 0) send({ type: "papers", papers: batch });
  send({ type: "end", problems });
} catch (err) {
  const e = err as { code?: string; message?: string };
  send({ type: "error", code: e.code, message: e.message ?? String(err) });
}
port.close();
