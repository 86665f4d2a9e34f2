// Worker thread: reads bounce and complaint messages and providers' webhook bodies (strangers write them) off the caller's event loop.
import { serveTasks } from "../work/bounded-worker.js";
import { readBounceReport } from "./report/read.js";
import { readWebhook, type WebhookProvider } from "./webhooks/events.js";
import { yieldToTheSite } from "../work/priority.js";

yieldToTheSite();

void serveTasks((task: Uint8Array | { provider: WebhookProvider; body: Uint8Array }) =>
  task instanceof Uint8Array
    ? readBounceReport(Buffer.from(task.buffer, task.byteOffset, task.byteLength))
    : readWebhook(task.provider, Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength).toString("utf8")),
);
