import { linkSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError, PapermailError } from "../errors.js";
import { scanJsonDump } from "../dump/parse-json.js";
import { describeUrl, getJson } from "./api-get.js";

export interface FetchOptions {
  apiUrl: string;
  dumpsDir: string;
  /** Sent with every request, so the API's operators can tell who asks. */
  userAgent: string;
  timeoutMs?: number;
  /** The most read for one day, all its pages together (default 50 MB): more is refused as it streams in. */
  maxBytes?: number;
  /** Tries per request for 429, 5xx and network errors. */
  attempts?: number;
  /** The first backoff; it doubles. A Retry-After answer wins (up to maxWaitMs). */
  backoffMs?: number;
  maxWaitMs?: number;
  /** Entries per page (the API's `limit`); pages are read until one comes back short. */
  pageSize?: number;
  /** Pages read at most for one day (default 20): a day that never ends is refused. */
  maxPages?: number;
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
  const maxPages = o.maxPages ?? MAX_PAGES;
  // One budget for the whole day: every page's bytes count against PAPERMAIL_FETCH_MAX_MB.
  const budget = { left: o.maxBytes ?? 50 * 1024 * 1024, total: o.maxBytes ?? 50 * 1024 * 1024 };
  const entries: unknown[] = [];
  for (let page = 0; ; page++) {
    if (page >= maxPages) {
      throw new PapermailError("FETCH", `${describeUrl(new URL(o.apiUrl))} for ${date}: more than ${maxPages} pages of ${pageSize} papers, more than any day lists; nothing was written`);
    }
    const url = new URL(o.apiUrl);
    url.searchParams.set("date", date);
    url.searchParams.set("limit", String(pageSize));
    if (page > 0) url.searchParams.set("p", String(page));
    const batch = await getJson(url, o, budget, pageSize);
    // One by one: spreading a huge list as arguments overflows the stack.
    for (const entry of batch) entries.push(entry);
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
  const name = (n: number) => join(o.dumpsDir, `daily_papers_${date}_fetched-${stamp}${n > 1 ? `-${n}` : ""}.json`);
  const temporary = join(o.dumpsDir, `.daily_papers_${date}.${process.pid}.tmp`);
  let file = name(1);
  try {
    writeFileSync(temporary, body);
    // A link never replaces a file: two fetches in the same second keep both answers.
    for (let n = 2; ; n++) {
      try {
        linkSync(temporary, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw err;
        file = name(n);
      }
    }
  } catch (err) {
    throw new PapermailError("FETCH", `cannot write ${file}: ${describeError(err)}`);
  } finally {
    rmSync(temporary, { force: true });
  }
  return { date, file, entries: entries.length };
}

/** Pages of one day read at most: 20 pages of 100 is ten times the busiest day listed. */
const MAX_PAGES = 20;
