import { isSnsCertUrl } from "./verify.js";

/** How long and how much one request to SNS may take: certificates are about 2 KB. */
const TIMEOUT_MS = 5_000;
const MAX_BYTES = 64 * 1024;
const CACHED = 20;

/** GETs a small text from SNS within a deadline we own (a timer we clear) and a size bound; no redirects. */
async function getText(url: string): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  try {
    const r = await fetch(url, { redirect: "manual", signal: controller.signal });
    if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of r.body ?? []) {
      size += chunk.length;
      if (size > MAX_BYTES) throw new Error(`${url} sent more than ${MAX_BYTES / 1024} KB`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    clearTimeout(timer);
  }
}

/** SNS signing certificates by URL, each fetched once (the newest few kept). */
export function snsCertificates(): (url: string) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (url) => {
    let pem = cache.get(url);
    if (!pem) {
      pem = getText(url);
      // A failed fetch is not remembered: the next message tries again.
      pem.catch(() => cache.delete(url));
      cache.set(url, pem);
      if (cache.size > CACHED) cache.delete(cache.keys().next().value!);
    }
    return pem;
  };
}

/** Confirms an SNS subscription by visiting its SubscribeURL, which must be on Amazon's SNS hosts (or the configured place). */
export async function confirmSnsSubscription(subscribeUrl: string | undefined, extra: string | undefined): Promise<void> {
  if (!subscribeUrl) throw new Error("no SubscribeURL");
  let u: URL;
  try {
    u = new URL(subscribeUrl);
  } catch {
    throw new Error("SubscribeURL is not a URL");
  }
  const amazon = u.protocol === "https:" && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(u.hostname) && !u.username && !u.password && u.port === "";
  const configured = extra !== undefined && isSnsCertUrl(subscribeUrl.replace(/\?.*$/, ".pem"), extra) && u.origin === new URL(extra).origin;
  if (!amazon && !configured) throw new Error("SubscribeURL is not on Amazon's SNS hosts");
  await getText(subscribeUrl);
}
