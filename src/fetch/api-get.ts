import { setTimeout as sleep } from "node:timers/promises";
import { createDepthGuard, parseEntry, splitJsonEntries } from "../dump/json-entries.js";
import { describeError, PapermailError } from "../errors.js";
import { DeadlineError, withDeadline } from "../util/deadline.js";
import type { FetchOptions } from "./daily-papers.js";

/** Nesting a daily_papers answer never needs (it has about six levels). */
const MAX_DEPTH = 32;

/** Redirects followed per request, all within the API's origin. */
const MAX_REDIRECTS = 5;

/**
 * GET with a deadline, retrying 429, 5xx and network errors with backoff; honours
 * Retry-After. Follows redirects only within the configured API's origin (a redirect
 * elsewhere is refused: its answer would be ingested as Hugging Face's), and reads the
 * answer as a stream, refusing it once it passes `maxBytes`.
 */
export async function getJson(url: URL, o: FetchOptions, budget: { left: number; total: number }, pageSize: number): Promise<unknown[]> {
  const attempts = o.attempts ?? 4;
  const timeoutMs = o.timeoutMs ?? 30_000;
  let wait = o.backoffMs ?? 2000;
  let lastError = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (o.signal?.aborted) break;
    let retryAfter: number | undefined;
    try {
      // The deadline covers the headers and the whole body: a server that stalls mid-answer is cut off too.
      const response = await withDeadline(timeoutMs, o.signal, (signal) => getFollowing(url, o, signal, budget));
      if (response.ok) {
        budget.left -= response.body.length;
        return readEntries(url, response.body, pageSize);
      }
      lastError = `HTTP ${response.status} ${response.statusText}`.trim();
      if (response.status !== 429 && response.status < 500) throw new PapermailError("FETCH", `${describeUrl(url)}: ${lastError}`);
      retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof PapermailError) throw err;
      lastError = err instanceof DeadlineError ? err.message : describeNetworkError(err, url);
    }
    if (attempt < attempts) {
      await sleep(Math.min(o.maxWaitMs ?? 60_000, retryAfter ?? wait), undefined, { signal: o.signal }).catch(() => undefined);
      wait *= 2;
    }
  }
  throw new PapermailError("FETCH", `${describeUrl(url)}: gave up after ${attempts} tries (${lastError})`);
}

interface Answer {
  ok: boolean;
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

/**
 * A page's entries, found without building the text first (nesting and sizes checked
 * as json-entries.ts does for dumps), then parsed one by one.
 */
function readEntries(url: URL, body: Buffer, pageSize: number): unknown[] {
  const looks = looksLikeJsonList(body);
  if (looks === "not json") throw new PapermailError("FETCH", `${describeUrl(url)}: the answer is not JSON ("${body.toString("utf8", 0, 40).replace(/\s+/g, " ")}...")`);
  if (looks === "not a list") throw new PapermailError("FETCH", `${describeUrl(url)}: the answer is JSON but not a list of papers`);
  try {
    const split = splitJsonEntries(body, { maxDepth: MAX_DEPTH, maxEntryBytes: 4 * 1024 * 1024, maxEntries: pageSize * 2 });
    return split.entries.map((span) => parseEntry(body, span));
  } catch (err) {
    throw new PapermailError("FETCH", `${describeUrl(url)}: the answer is not a daily_papers list (${describeError(err)})`);
  }
}

/** What the first character of an answer says it is. */
function looksLikeJsonList(body: Buffer): "list" | "not a list" | "not json" {
  for (const c of body.subarray(0, 4096)) {
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xef || c === 0xbb || c === 0xbf) continue;
    return c === 0x5b ? "list" : c === 0x7b || c === 0x22 || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e ? "not a list" : "not json";
  }
  return "not json";
}

/** One GET and the redirects it leads to within the API's origin; the body read up to what is left of the day's budget. */
async function getFollowing(start: URL, o: FetchOptions, signal: AbortSignal, budget: { left: number; total: number }): Promise<Answer> {
  const origin = new URL(o.apiUrl).origin;
  let url = start;
  for (let hop = 0; ; hop++) {
    const r = await fetch(url, { headers: { "User-Agent": o.userAgent, Accept: "application/json" }, redirect: "manual", signal });
    if (r.status >= 300 && r.status < 400 && r.headers.has("location")) {
      await r.body?.cancel();
      const next = new URL(r.headers.get("location")!, url);
      if (next.origin !== origin) {
        throw new PapermailError("FETCH", `${describeUrl(url)}: redirected to ${describeUrl(next)}, another server; papermail follows redirects only within ${origin} (PAPERMAIL_HF_API_URL)`);
      }
      if (hop >= MAX_REDIRECTS) throw new PapermailError("FETCH", `${describeUrl(start)}: more than ${MAX_REDIRECTS} redirects`);
      url = next;
      continue;
    }
    return { ok: r.ok, status: r.status, statusText: r.statusText, headers: r.headers, body: await readCapped(r, url, budget) };
  }
}

/**
 * The body of an answer, refused as soon as the day's answers pass the budget
 * (announced or as it streams in), or as soon as its nesting shows it is no
 * daily_papers list: neither is ever read whole.
 */
async function readCapped(r: Response, url: URL, budget: { left: number; total: number }): Promise<Buffer> {
  const tooLarge = () =>
    new PapermailError("FETCH", `${describeUrl(url)}: the day's answers are larger than ${formatMb(budget.total)} (PAPERMAIL_FETCH_MAX_MB); a day of papers is far smaller`);
  const announced = Number(r.headers.get("content-length") ?? NaN);
  if (announced > budget.left) {
    await r.body?.cancel();
    throw tooLarge();
  }
  if (!r.body) return Buffer.alloc(0);
  const guard = r.ok ? createDepthGuard(MAX_DEPTH) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = r.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > budget.left) {
      await reader.cancel();
      throw tooLarge();
    }
    try {
      guard?.feed(value);
    } catch (err) {
      await reader.cancel();
      throw new PapermailError("FETCH", `${describeUrl(url)}: the answer is not a daily_papers list (${describeError(err)}); the rest was not read`);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, size);
}

function formatMb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

/**
 * Why a request never got an answer, in words: fetch says only "fetch failed" and
 * keeps the reason (DNS, refused, TLS) in its cause.
 */
function describeNetworkError(err: unknown, url: URL): string {
  let cause: unknown = err;
  for (let i = 0; i < 4 && cause && typeof cause === "object" && "cause" in cause && (cause as { cause?: unknown }).cause; i++) cause = (cause as { cause: unknown }).cause;
  const code = String((cause as { code?: unknown } | null)?.code ?? "");
  const host = url.host;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return `cannot resolve ${url.hostname} (DNS: ${code}); is this machine online?`;
  if (code === "ECONNREFUSED") return `${host} refused the connection (nothing listens there)`;
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return `${host} closed the connection`;
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") return `${host} did not accept a connection in time`;
  if (code === "ENETUNREACH" || code === "EHOSTUNREACH") return `${host} is unreachable (${code}); is this machine online?`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || /certificate|tls|ssl/i.test(String((cause as Error | null)?.message))) {
    return `TLS with ${host} failed: ${(cause as Error).message}${code ? ` (${code})` : ""}`;
  }
  return describeError(cause);
}

/** Retry-After as milliseconds: seconds, or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
