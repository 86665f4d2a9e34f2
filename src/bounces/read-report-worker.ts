// Worker thread: reads bounce and complaint messages (strangers write them) off the caller's event loop.
import { serveTasks } from "../work/bounded-worker.js";
import { readBounceReport } from "./report/read.js";
import { yieldToTheSite } from "../work/priority.js";

yieldToTheSite();

void serveTasks((raw: Uint8Array) => readBounceReport(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)));
