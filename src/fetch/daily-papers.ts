import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DeadlineError, withDeadline } from "../util/deadline.js";
import { describeError, PapermailError } from "../errors.js";
import { scanJsonDump } from "../dump/parse-json.js";

export interface FetchOptions {
  apiUrl: string;
  dumpsDir: string;
  /** Sent with every request, so the API's operators can tell who asks. */
  userAgent: string;
  timeoutMs?: number;
  /** Tries per request for 429, 5xx and network errors. */
  attempts?: number;
  /** The first backoff; it doubles. A Retry-After answer wins (up to maxWaitMs). */
  backoffMs?: number;
  maxWaitMs?: number;
  /** Entries per page (the API's `limit`); pages are read until one comes back short. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** What fetching one day gave. */
export interface FetchedDay {
  date: string;
  /** Null for a day with no papers yet: nothing is written. */
  file: string | null;
  entries: number;
}

/**
 * Downloads the daily_papers list of one day (every page of it) and saves it in the
 * dumps folder as `daily_papers_DATE_fetched-STAMP.json`. The answer is checked as a
 * dump before anything is written, and the file appears whole (written under a
 * hidden name, then renamed): a slow, failing or malformed answer leaves nothing.
 */
export async function fetchDailyPapers(date: string, at: Date, o: FetchOptions): Promise<FetchedDay> {
  const pageSize = o.pageSize ?? 100;
  const entries: unknown[] = [];
  for (let page = 0; page < 50; page++) {
    const url = new URL(o.apiUrl);
    url.searchParams.set("date", date);
    url.searchParams.set("limit", String(pageSize));
    if (page > 0) url.searchParams.set("p", String(page));
    const batch = await getJson(url, o);
    if (!Array.isArray(batch)) throw new PapermailError("FETCH", `${describeUrl(url)}: the answer is JSON but not a list of papers`);
    entries.push(...batch);
    if (batch.length < pageSize) break;
  }
  // An empty day (Hugging Face has listed nothing yet) leaves no file: a later fetch gets the list.
  if (entries.length === 0) return { date, file: null, entries: 0 };
  const body = Buffer.from(`${JSON.stringify(entries, null, 1)}\n`);
  try {
    scanJsonDump(body, { header() {}, paper() {} });
  } catch (err) {
    throw new PapermailError("FETCH", `${describeUrl(new URL(o.apiUrl))} for ${date}: the answer is not a daily_papers list (${describeError(err)})`);
  }
  mkdirSync(o.dumpsDir, { recursive: true });
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = join(o.dumpsDir, `daily_papers_${date}_fetched-${stamp}.json`);
  const temporary = join(o.dumpsDir, `.daily_papers_${date}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, body);
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw new PapermailError("FETCH", `cannot write ${file}: ${describeError(err)}`);
  }
  return { date, file, entries: entries.length };
}

/** GET with a timeout, retrying 429, 5xx and network errors with backoff; honours Retry-After. */
async function getJson(url: URL, o: FetchOptions): Promise<unknown> {
  const attempts = o.attempts ?? 4;
  const timeoutMs = o.timeoutMs ?? 30_000;
  let wait = o.backoffMs ?? 2000;
  let lastError = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (o.signal?.aborted) break;
    let retryAfter: number | undefined;
    try {
      // The deadline covers the headers and the whole body: a server that stalls mid-answer is cut off too.
      const response = await withDeadline(timeoutMs, o.signal, async (signal) => {
        const r = await fetch(url, { headers: { "User-Agent": o.userAgent, Accept: "application/json" }, signal });
        return { ok: r.ok, status: r.status, statusText: r.statusText, headers: r.headers, text: await r.text() };
      });
      const text = response.text;
      if (response.ok) {
        try {
          return JSON.parse(text);
        } catch {
          throw new PapermailError("FETCH", `${describeUrl(url)}: the answer is not JSON ("${text.slice(0, 40).replace(/\s+/g, " ")}...")`);
        }
      }
      lastError = `HTTP ${response.status} ${response.statusText}`.trim();
      if (response.status !== 429 && response.status < 500) throw new PapermailError("FETCH", `${describeUrl(url)}: ${lastError}`);
      retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof PapermailError) throw err;
      lastError = err instanceof DeadlineError ? err.message : describeError(err);
    }
    if (attempt < attempts) {
      await sleep(Math.min(o.maxWaitMs ?? 60_000, retryAfter ?? wait), undefined, { signal: o.signal }).catch(() => undefined);
      wait *= 2;
    }
  }
  throw new PapermailError("FETCH", `${describeUrl(url)}: gave up after ${attempts} tries (${lastError})`);
}

/** Retry-After as milliseconds: seconds, or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
