import { PapermailError } from "../errors.js";
import { isoDate, isValidDay, monthIndex, resolveYear } from "../util/time.js";
import { extractLinks, pickCodeLink } from "./links.js";
import { paperKey, paperSlug } from "./paper-key.js";

/** One paper as a dump shows it, validated and keyed. */
export interface Paper {
  /** 1-based line of the title in the dump. */
  line: number;
  key: string;
  slug: string;
  title: string;
  abstract: string | null;
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  /** ISO date, never after the page date. */
  publishedOn: string | null;
  /** Upvotes shown in the trailer (0 when a trailer shows none); null without a trailer. */
  upvotes: number | null;
  links: string[];
  codeUrl: string | null;
}

/** A block that could not be read: reported, skipped, the rest of the file still lands. */
export interface DumpProblem {
  line: number;
  message: string;
}

export interface ParsedDump {
  /** ISO date of the page. */
  pageDate: string;
  papers: Paper[];
  problems: DumpProblem[];
}

export interface ParseOptions {
  /** When the page was captured; gives the page date its year. */
  capturedAt: Date;
}

/** A run of non-blank lines. */
interface Paragraph {
  line: number;
  lines: string[];
  /** Has a line that is just "·": an author/date trailer. */
  trailer: boolean;
}

const CHROME = new Set([
  "new",
  "Get trending papers in your email inbox!",
  "Subscribe",
  "Daily Papers",
  "byAK and the research community",
]);
const HEADER_SCAN_LIMIT = 20;
const MAX_TITLE_LENGTH = 1000;
const DATE_RE = /^([A-Z][a-z]{2})\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d{1,7}))?$/;
const AUTHORS_RE = /^•\s*(\d{1,5})\s+authors?$/;

/**
 * Parses one papers-page dump (text, or its UTF-8 bytes). Pure: no I/O, no clock.
 * Throws DUMP_REJECTED when the text is not a dump at all; unreadable blocks
 * inside a dump become problems with their line numbers. The same paper twice on
 * one page is one paper: the later block wins.
 */
export function parseDump(input: string | Buffer, options: ParseOptions): ParsedDump {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const byKey = new Map<string, Paper>();
  let pageDate = "";
  const { problems } = scanDump(bytes, options, {
    header: (date) => (pageDate = date),
    paper: (paper) => {
      byKey.delete(paper.key);
      byKey.set(paper.key, paper);
    },
  });
  return { pageDate, papers: [...byKey.values()], problems };
}

/** Receives a dump's page date first, then every paper block in file order (repeats included). */
export interface DumpSink {
  header(pageDate: string): void;
  paper(paper: Paper): void;
}

/**
 * The parser as a stream: papers are handed to `sink` as they are read, so a
 * large dump can be stored while it is still being parsed. Throws DUMP_REJECTED
 * as parseDump does, the "no papers" case only at the end.
 */
export function scanDump(bytes: Buffer, options: ParseOptions, sink: DumpSink): { problems: DumpProblem[]; papers: number } {
  const paragraphs = new Paragraphs(bytes);
  const first = paragraphs.at(0)?.lines[0];
  if (first === undefined) throw reject("the file is empty");
  if (first.startsWith("<") && /<(!doctype|html|head|body)\b/i.test(bytes.toString("utf8", 0, 4096))) {
    throw reject("an HTML page (an error page?), not a dump of the papers page");
  }

  const { pageDate, start } = readHeader(paragraphs, options.capturedAt);
  sink.header(pageDate);
  const problems: DumpProblem[] = [];
  let papers = 0;

  let i = start;
  for (let p = paragraphs.at(i); p; p = paragraphs.at(i)) {
    if (p.lines.length !== 1 || isTrailer(p)) {
      problems.push({ line: p.line, message: describeStray(p) });
      i++;
      continue;
    }
    const title = p.lines[0]!;
    i++;
    let abstract: string | null = null;
    const next = paragraphs.at(i);
    if (next && next.lines.length === 1 && !isTrailer(next)) {
      const after = paragraphs.at(i + 1);
      if ((after && isTrailer(after)) || looksLikeAbstract(next.lines[0]!)) {
        abstract = next.lines[0]!;
        i++;
      }
    }
    let trailer: Trailer = EMPTY_TRAILER;
    const maybeTrailer = paragraphs.at(i);
    if (maybeTrailer && isTrailer(maybeTrailer)) {
      i++;
      const read = readTrailer(maybeTrailer, pageDate);
      if (typeof read === "string") {
        problems.push({ line: maybeTrailer.line, message: `paper "${clip(title)}" skipped: ${read}` });
        continue;
      }
      trailer = read;
    }
    if (title.length > MAX_TITLE_LENGTH) {
      problems.push({ line: p.line, message: `block skipped: a ${title.length}-character line where a title was expected` });
      continue;
    }
    const key = paperKey(title);
    if (key === "") {
      problems.push({ line: p.line, message: `paper skipped: title "${clip(title)}" has no letters or digits` });
      continue;
    }
    const links = abstract ? extractLinks(abstract) : [];
    papers++;
    sink.paper({ line: p.line, key, slug: paperSlug(key), title, abstract, ...trailer, links, codeUrl: pickCodeLink(links) });
  }

  if (papers === 0) {
    const why = problems.length > 0 ? `no readable paper blocks (first problem, line ${problems[0]!.line}: ${problems[0]!.message})` : "no paper blocks after the header";
    throw reject(why);
  }
  return { problems, papers };
}

function reject(reason: string, line?: number): PapermailError {
  return new PapermailError("DUMP_REJECTED", reason, line === undefined ? {} : { line });
}

/**
 * Runs of non-blank lines, read from the bytes only as far as they are asked for,
 * so the first papers come out before the whole file is split. Lines are found on
 * the bytes and decoded one by one (cheaper than one huge string); trim() removes
 * \r, trailing and non-breaking spaces, and a BOM.
 */
class Paragraphs {
  private readonly list: Paragraph[] = [];
  private pos = 0;
  private lineNo = 0;
  constructor(private readonly bytes: Buffer) {}

  /** The i-th paragraph, or undefined past the end. */
  at(i: number): Paragraph | undefined {
    while (this.list.length <= i && this.pos < this.bytes.length) this.readOne();
    return this.list[i];
  }

  private readOne(): void {
    const bytes = this.bytes;
    let current: Paragraph | null = null;
    while (this.pos < bytes.length) {
      let end = bytes.indexOf(10, this.pos);
      if (end === -1) end = bytes.length;
      const line = end > this.pos ? bytes.toString("utf8", this.pos, end).trim() : "";
      this.lineNo++;
      this.pos = end + 1;
      if (line === "") {
        if (current) return;
      } else if (current) {
        current.lines.push(line);
        if (line === "·") current.trailer = true;
      } else {
        current = { line: this.lineNo, lines: [line], trailer: line === "·" };
        this.list.push(current);
      }
    }
  }
}

/** Finds the page date after the chrome; returns it and the first paragraph after it. */
function readHeader(paragraphs: Paragraphs, capturedAt: Date): { pageDate: string; start: number } {
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
      const captured = isoDate(capturedAt.getUTCFullYear(), capturedAt.getUTCMonth(), capturedAt.getUTCDate());
      const year = m[3] ? Number(m[3]) : resolveYear(month, day, captured);
      if (month < 0 || year === undefined || !isValidDay(year, month, day)) {
        throw reject(`line ${p.line}: "${clip(line)}" is not a valid page date`, p.line);
      }
      return { pageDate: isoDate(year, month, day), start: i + 1 };
    }
    if (sawChrome) throw reject(`line ${p.line}: expected the page date (such as "Dec 12") after the page header, found "${clip(line)}"`, p.line);
    break;
  }
  throw reject('no papers-page header ("Daily Papers" / "byAK and the research community" followed by a page date)');
}

interface Trailer {
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  publishedOn: string | null;
  upvotes: number | null;
}
const EMPTY_TRAILER: Trailer = { authorsCount: null, orgHandle: null, orgName: null, publishedOn: null, upvotes: null };

function isTrailer(p: Paragraph): boolean {
  return p.trailer;
}

/** Reads `who / · / date [upvotes]`; returns a reason string when it cannot. */
function readTrailer(p: Paragraph, pageDate: string): Trailer | string {
  const dot = p.lines.indexOf("·");
  if (dot > 1 || p.lines.length - dot > 2) return `line ${p.line}: a trailer has at most "who", "·" and a date line`;
  const trailer: Trailer = { ...EMPTY_TRAILER, upvotes: 0 };
  if (dot === 1) {
    const who = p.lines[0]!;
    const authors = AUTHORS_RE.exec(who);
    if (authors) trailer.authorsCount = Number(authors[1]);
    else if (who.startsWith("•")) return `line ${p.line}: "${clip(who)}" is not an author count`;
    else {
      const space = who.search(/\s/);
      trailer.orgHandle = space === -1 ? who : who.slice(0, space);
      trailer.orgName = space === -1 ? who : who.slice(space).trim();
    }
  }
  const dateLine = p.lines[dot + 1];
  if (dateLine !== undefined) {
    const lineNo = p.line + dot + 1;
    const m = DATE_RE.exec(dateLine);
    const month = m ? monthIndex(m[1]!) : -1;
    if (!m || month < 0) return `line ${lineNo}: "${clip(dateLine)}" is not a date such as "Apr 22, 2023" or "Jan 27 4"`;
    const day = Number(m[2]);
    const year = m[3] ? Number(m[3]) : resolveYear(month, day, pageDate);
    if (year === undefined || !isValidDay(year, month, day)) return `line ${lineNo}: "${clip(dateLine)}" is not a calendar date`;
    const iso = isoDate(year, month, day);
    if (iso > pageDate) return `line ${lineNo}: publication date ${iso} is after the page date ${pageDate}`;
    trailer.publishedOn = iso;
    trailer.upvotes = m[4] === undefined ? 0 : Number(m[4]);
  }
  return trailer;
}

/** Abstracts are long prose; titles are short and rarely end a sentence. */
function looksLikeAbstract(line: string): boolean {
  return line.length >= 200 || (line.length >= 80 && /[.!?]["')\]]?$/.test(line) && line.includes(". "));
}

function describeStray(p: Paragraph): string {
  if (isTrailer(p)) return "block skipped: an author/date trailer with no title before it";
  return `block skipped: ${p.lines.length} consecutive lines where one title line was expected`;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
