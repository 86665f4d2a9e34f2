import { PapermailError } from "../errors.js";
import { closestYear, isoDate, isValidDay, monthIndex } from "../util/time.js";
import type { Paragraphs } from "./paragraphs.js";
import { quote } from "./prose.js";

/** The page's own lines (navigation, banner) before the page date. */
const CHROME = new Set([
  "new",
  "Get trending papers in your email inbox!",
  "Subscribe",
  "Daily Papers",
  "byAK and the research community",
]);
const HEADER_SCAN_LIMIT = 20;
/** A date as the page prints it: "Dec 12", "Apr 22, 2023", with the upvotes after it in a trailer ("Jan 27 4"). */
export const DATE_RE = /^([A-Z][a-z]{2})\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d{1,7}))?$/;

/** The error for a file that is not a dump at all. */
export function reject(reason: string, line?: number): PapermailError {
  return new PapermailError("DUMP_REJECTED", reason, line === undefined ? {} : { line });
}

/** Finds the page date after the chrome; returns it and the first paragraph after it. */
export function readHeader(paragraphs: Paragraphs, capturedAt: Date): { pageDate: string; start: number } {
  let sawChrome = false;
  for (let i = 0; i < HEADER_SCAN_LIMIT; i++) {
    const p = paragraphs.at(i);
    if (!p) break;
    const line = p.lines[0]!;
    if (p.lines.length === 1 && CHROME.has(line)) {
      sawChrome = true;
      continue;
    }
    const m = sawChrome && p.lines.length === 1 ? DATE_RE.exec(line) : null;
    if (m && m[4] === undefined) {
      const month = monthIndex(m[1]!);
      const day = Number(m[2]);
      const year = m[3] ? Number(m[3]) : closestYear(month, day, capturedAt);
      if (month < 0 || year === undefined || !isValidDay(year, month, day)) {
        throw reject(`line ${p.line}: "${quote(line)}" is not a valid page date`, p.line);
      }
      return { pageDate: isoDate(year, month, day), start: i + 1 };
    }
    if (sawChrome) throw reject(`line ${p.line}: expected the page date (such as "Dec 12") after the page header, found "${quote(line)}"`, p.line);
    break;
  }
  throw reject('no papers-page header ("Daily Papers" / "byAK and the research community" followed by a page date)');
}
