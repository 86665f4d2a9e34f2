import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createBoundedWorker, TaskTooLong } from "../work/bounded-worker.js";
import type { ReadReport } from "./report/read.js";
import type { WebhookProvider, WebhookRead } from "./webhooks/events.js";

// The worker runs the built JavaScript (dist/), also when this module runs from src/ in tests.
const READ_WORKER = fileURLToPath(new URL("../../dist/bounces/read-report-worker.js", import.meta.url));

/** How long reading one message may take: a real one takes milliseconds, whatever it holds. */
export const READ_TIMEOUT_MS = 10_000;

type Task = Uint8Array | { provider: WebhookProvider; body: Uint8Array };
let reader: ReturnType<typeof createBoundedWorker<Task, ReadReport | WebhookRead>> | undefined;

function worker() {
  return (reader ??= createBoundedWorker<Task, ReadReport | WebhookRead>(READ_WORKER, { timeoutMs: READ_TIMEOUT_MS, resourceLimits: { maxOldGenerationSizeMb: 256 } }));
}

/**
 * Reads one bounce or complaint message in a worker thread, within READ_TIMEOUT_MS and
 * 256 MB: anyone can mail the bounce address, so what a message holds never runs on
 * the caller's event loop. A message that breaks a bound is not recognised, with why.
 */
export async function readBounceReportBounded(raw: Buffer): Promise<ReadReport> {
  // A copy of its own, handed over to the worker without a second copy.
  const bytes = new Uint8Array(raw);
  try {
    return (await worker().run(bytes, [bytes.buffer as ArrayBuffer])) as ReadReport;
  } catch (err) {
    const key = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
    if (err instanceof TaskTooLong) return { recognised: false, key, reason: `reading it ${err.message}: left for a person` };
    return { recognised: false, key, reason: `cannot be read: ${(err as Error).message}` };
  }
}

/** Reads a provider's webhook body in the same worker, within the same bounds. */
export async function readWebhookBounded(provider: WebhookProvider, body: Buffer): Promise<WebhookRead> {
  const bytes = new Uint8Array(body);
  try {
    return (await worker().run({ provider, body: bytes }, [bytes.buffer as ArrayBuffer])) as WebhookRead;
  } catch (err) {
    return { reports: [], error: err instanceof TaskTooLong ? `reading it ${err.message}` : `cannot be read: ${(err as Error).message}` };
  }
}

/** Stops the reading worker (tests, and commands about to exit). */
export async function closeBounceReader(): Promise<void> {
  await reader?.close();
  reader = undefined;
}
