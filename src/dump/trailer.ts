import { isoDate, isValidDay, monthIndex, resolveYear } from "../util/time.js";
import { DATE_RE } from "./page-header.js";
import type { Paragraph } from "./paragraphs.js";
import type { DumpProblem } from "./parse.js";
import { isProse, quote } from "./prose.js";

const AUTHORS_RE = /^•\s*(\d{1,5})\s+authors?$/;

export interface Trailer {
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  publishedOn: string | null;
  upvotes: number | null;
}
export const EMPTY_TRAILER: Trailer = { authorsCount: null, orgHandle: null, orgName: null, publishedOn: null, upvotes: null };

/** One line of a trailer, in the order the page prints them: who, "·", date. */
export interface TrailerPart {
  role: "who" | "dot" | "date";
  text: string;
  line: number;
}
export interface TrailerParts {
  line: number;
  parts: TrailerPart[];
}
type Segment = { kind: "text"; line: number; lines: string[] } | { kind: "trailer"; line: number; parts: TrailerPart[] };
const ORDER = { who: 0, dot: 1, date: 2 } as const;

/**
 * Splits a paragraph into text and trailer segments. A trailer line is "·", an
 * author count, a date, the line just before a "·" (an organisation) or just after
 * it (the date, read or reported later), wherever it stands.
 */
export function segments(p: Paragraph): Segment[] {
  const { lines } = p;
  const out: Segment[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const line = p.line + i;
    let role: TrailerPart["role"] | null = null;
    if (text === "·") role = "dot";
    else if (AUTHORS_RE.test(text)) role = "who";
    else if (lines[i - 1] === "·" || DATE_RE.test(text)) role = "date";
    else if (lines[i + 1] === "·" && text.length <= 200 && !isProse(text)) role = "who";
    const last = out[out.length - 1];
    if (role) {
      if (last?.kind === "trailer") last.parts.push({ role, text, line });
      else out.push({ kind: "trailer", line, parts: [{ role, text, line }] });
    } else if (last?.kind === "text") last.lines.push(text);
    else out.push({ kind: "text", line, lines: [text] });
  }
  return out;
}

export function isTrailerLine(text: string): boolean {
  return text === "·" || (text.startsWith("•") ? AUTHORS_RE.test(text) : DATE_RE.test(text));
}

/** True when the parts continue the trailer in page order (who, "·", date), each once. */
export function canExtend(trailer: TrailerParts, parts: readonly TrailerPart[]): boolean {
  const lastRole = trailer.parts[trailer.parts.length - 1]?.role;
  return lastRole === undefined || ORDER[parts[0]!.role] > ORDER[lastRole];
}

/**
 * Reads `who / · / date [upvotes]`. A part it cannot read is reported and dropped;
 * the paper stays (a date after the page date loses the date, not the paper).
 */
export function readTrailer(t: TrailerParts, pageDate: string, title: string, problems: DumpProblem[]): Trailer {
  const trailer: Trailer = { ...EMPTY_TRAILER, upvotes: 0 };
  const report = (line: number, why: string) => problems.push({ line, message: `paper "${quote(title)}": ${why}` });
  let lastRole = -1;
  for (const part of t.parts) {
    if (ORDER[part.role] <= lastRole) {
      report(part.line, `"${quote(part.text)}" ignored: a trailer has one "who", "·" and date line, in that order`);
      continue;
    }
    lastRole = ORDER[part.role];
    if (part.role === "who") {
      const authors = AUTHORS_RE.exec(part.text);
      if (authors) trailer.authorsCount = Number(authors[1]);
      else if (part.text.startsWith("•")) report(part.line, `"${quote(part.text)}" is not an author count; ignored`);
      else {
        const space = part.text.search(/\s/);
        trailer.orgHandle = space === -1 ? part.text : part.text.slice(0, space);
        trailer.orgName = space === -1 ? part.text : part.text.slice(space).trim();
      }
    } else if (part.role === "date") {
      const m = DATE_RE.exec(part.text);
      const month = m ? monthIndex(m[1]!) : -1;
      if (!m || month < 0) {
        report(part.line, `"${quote(part.text)}" is not a date such as "Apr 22, 2023" or "Jan 27 4"; date left unknown`);
        continue;
      }
      trailer.upvotes = m[4] === undefined ? 0 : Number(m[4]);
      const day = Number(m[2]);
      const year = m[3] ? Number(m[3]) : resolveYear(month, day, pageDate);
      const iso = year === undefined || !isValidDay(year, month, day) ? null : isoDate(year, month, day);
      if (iso === null) report(part.line, `"${quote(part.text)}" is not a calendar date; date left unknown`);
      else if (iso > pageDate) report(part.line, `publication date ${iso} is after the page date ${pageDate}; date left unknown`);
      else trailer.publishedOn = iso;
    }
  }
  return trailer;
}
