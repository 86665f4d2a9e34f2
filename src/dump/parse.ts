import { PapermailError } from "../errors.js";
import { closestYear, isoDate, isValidDay, monthIndex, resolveYear } from "../util/time.js";
import { cleanText, clip } from "../model/text.js";
import { extractLinks, pickCodeLink } from "../model/links.js";
import { isUsableKey, paperKey, paperSlug, sameAbstract, type Paper } from "../model/paper.js";


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
}

const CHROME = new Set([
  "new",
  "Get trending papers in your email inbox!",
  "Subscribe",
  "Daily Papers",
  "byAK and the research community",
]);
const HEADER_SCAN_LIMIT = 20;
/** Titles on the page are under 150 characters; a longer line in a title's place is prose. */
const MAX_TITLE_LENGTH = 300;
const DATE_RE = /^([A-Z][a-z]{2})\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d{1,7}))?$/;
const AUTHORS_RE = /^•\s*(\d{1,5})\s+authors?$/;

/**
 * Parses one papers-page dump (text, or its UTF-8 bytes). Pure: no I/O, no clock.
 * Throws DUMP_REJECTED when the text is not a dump at all; unreadable blocks
 * inside a dump become problems with their line numbers. The same paper twice on
 * one page is one paper, merged as the store merges it (mergeRepeat).
 */
export function parseDump(input: string | Buffer, options: ParseOptions): ParsedDump {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const papers: Paper[] = [];
  // Index of the paper with this key; an array only for keys shared by different papers.
  const byKey = new Map<string, number | number[]>();
  let pageDate = "";
  const { problems } = scanDump(bytes, options, {
    header: (date) => (pageDate = date),
    paper: (paper) => {
      const seen = byKey.get(paper.key);
      if (seen === undefined) {
        byKey.set(paper.key, papers.push(paper) - 1);
        return;
      }
      const list = typeof seen === "number" ? [seen] : seen;
      const at = list.find((i) => sameAbstract(papers[i]!.abstract, paper.abstract));
      if (at !== undefined) papers[at] = mergeRepeat(papers[at]!, paper);
      else byKey.set(paper.key, [...list, papers.push(paper) - 1]);
    },
  });
  return { pageDate, papers, problems };
}

/** A paper seen again in the same capture: what the later block shows wins, what it lacks is kept. */
export function mergeRepeat(earlier: Paper, later: Paper): Paper {
  const pick = <T>(a: T | null, b: T | null) => (b === null ? a : b);
  return {
    ...later,
    line: earlier.line,
    abstract: pick(earlier.abstract, later.abstract),
    authorsCount: pick(earlier.authorsCount, later.authorsCount),
    orgHandle: pick(earlier.orgHandle, later.orgHandle),
    orgName: pick(earlier.orgName, later.orgName),
    publishedOn: pick(earlier.publishedOn, later.publishedOn),
    upvotes: pick(earlier.upvotes, later.upvotes),
    links: later.abstract === null ? earlier.links : later.links,
    codeUrl: pick(earlier.codeUrl, later.codeUrl),
  };
}

/** Receives a dump's page date first, then every paper block in file order (repeats included). */
export interface DumpSink {
  /** Called once for every dump that is not rejected, before its first paper (also when it has none). */
  header(pageDate: string): void;
  paper(paper: Paper): void;
  /** Now and then, how many bytes of the dump have been read. */
  progress?(bytesRead: number): void;
}

/**
 * The parser as a stream: papers are handed to `sink` as they are read, so a
 * large dump can be stored while it is still being parsed. Throws DUMP_REJECTED
 * as parseDump does, the "no papers" case only at the end.
 *
 * A paper is split by structure: a title line, then any number of abstract
 * paragraphs, then an optional trailer (who / "·" / date). Trailer-shaped lines
 * are trailers wherever they stand; a new paper starts after a trailer, or at a
 * title-shaped line that follows the abstract.
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
  let open: OpenPaper | null = null;
  let trailer: TrailerParts | null = null;
  /** After an unreadable block, prose is skipped until the next title-shaped line. */
  let skipping = false;

  const emit = () => {
    const paper = open ? finishPaper(open, trailer, pageDate, problems) : null;
    open = null;
    trailer = null;
    if (paper) {
      papers++;
      sink.paper(paper);
    }
  };

  const onTrailer = (line: number, parts: TrailerPart[]) => {
    if (trailer && !canExtend(trailer, parts)) emit();
    if (!open && !trailer) {
      problems.push({ line, message: "block skipped: an author/date trailer with no title before it" });
      skipping = true;
    }
    trailer ??= { line, parts: [] };
    trailer.parts.push(...parts);
  };
  const onText = (line: number, lines: readonly string[]) => {
    // A trailer closes its paper: what follows starts the next one.
    if (trailer) emit();
    const head = lines[0]!;
    const titleShaped = !isProse(head);
    if (open) {
      if (lines.length === 1 && titleShaped) {
        emit();
        open = { line, title: head, abstract: null };
      } else {
        const text = lines.length === 1 ? head : lines.join(" ");
        open.abstract = open.abstract === null ? text : `${open.abstract}\n\n${text}`;
      }
      return;
    }
    // Where a title must stand, a short line is one even if it reads like a sentence.
    const title = lines.length === 1 && (titleShaped || (!skipping && head.length <= MAX_TITLE_LENGTH && !head.includes("://")));
    if (!title) {
      problems.push({ line, message: describeStray(lines) });
      skipping = true;
      return;
    }
    skipping = false;
    open = { line, title: head, abstract: null };
  };

  for (let i = start, p = paragraphs.at(i); p; p = paragraphs.at(++i)) {
    paragraphs.forget(i);
    if ((i & 1023) === 0) sink.progress?.(paragraphs.bytesRead);
    // The common paragraph, one line of text, takes no detour through segments.
    if (p.lines.length === 1 && !isTrailerLine(p.lines[0]!)) onText(p.line, p.lines);
    else for (const seg of segments(p)) seg.kind === "trailer" ? onTrailer(seg.line, seg.parts) : onText(seg.line, seg.lines);
  }
  emit();

  if (papers === 0) {
    const why = problems.length > 0 ? `no readable paper blocks (first problem, line ${problems[0]!.line}: ${problems[0]!.message})` : "no paper blocks after the header";
    throw reject(why);
  }
  return { problems, papers };
}

/** A paper being read: its title and the abstract paragraphs so far. */
interface OpenPaper {
  line: number;
  title: string;
  abstract: string | null;
}

/** Checks and keys a finished paper block; null (with a problem recorded) when it cannot be a paper. */
function finishPaper(open: OpenPaper, parts: TrailerParts | null, pageDate: string, problems: DumpProblem[]): Paper | null {
  const { title, line } = open;
  const key = paperKey(title);
  if (!isUsableKey(key)) {
    problems.push({ line, message: `paper skipped: title "${quote(title)}" has no letters or digits` });
    return null;
  }
  const abstract = open.abstract;
  const trailer = parts ? readTrailer(parts, pageDate, title, problems) : EMPTY_TRAILER;
  const links = abstract ? extractLinks(abstract) : [];
  return { line, key, slug: paperSlug(key), title, abstract, ...trailer, links, codeUrl: pickCodeLink(links) };
}

function reject(reason: string, line?: number): PapermailError {
  return new PapermailError("DUMP_REJECTED", reason, line === undefined ? {} : { line });
}

/**
 * Runs of non-blank lines, read from the bytes only as far as they are asked for,
 * so the first papers come out before the whole file is split. Lines are found on
 * the bytes and decoded one by one (cheaper than one huge string); trim() removes
 * \r, trailing and non-breaking spaces, and a BOM; cleanText() removes what no
 * dump text may carry.
 */
class Paragraphs {
  private readonly list: Paragraph[] = [];
  /** Index of list[0]: paragraphs already read are let go, so they die young. */
  private first = 0;
  private pos = 0;
  private lineNo = 0;
  constructor(private readonly bytes: Buffer) {}

  get bytesRead(): number {
    return Math.min(this.pos, this.bytes.length);
  }

  /** The i-th paragraph, or undefined past the end (or when it was let go). */
  at(i: number): Paragraph | undefined {
    while (this.first + this.list.length <= i && this.pos < this.bytes.length) this.readOne();
    return this.list[i - this.first];
  }

  /** Lets go of the paragraphs before the i-th. */
  forget(i: number): void {
    while (this.first < i && this.list.length > 0) {
      this.list.shift();
      this.first++;
    }
  }

  private readOne(): void {
    const bytes = this.bytes;
    let current: Paragraph | null = null;
    while (this.pos < bytes.length) {
      let end = bytes.indexOf(10, this.pos);
      if (end === -1) end = bytes.length;
      const line = end > this.pos ? cleanText(bytes.toString("utf8", this.pos, end)).trim() : "";
      this.lineNo++;
      this.pos = end + 1;
      if (line === "") {
        if (current) return;
      } else if (current) current.lines.push(line);
      else {
        current = { line: this.lineNo, lines: [line] };
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

interface Trailer {
  authorsCount: number | null;
  orgHandle: string | null;
  orgName: string | null;
  publishedOn: string | null;
  upvotes: number | null;
}
const EMPTY_TRAILER: Trailer = { authorsCount: null, orgHandle: null, orgName: null, publishedOn: null, upvotes: null };

/** One line of a trailer, in the order the page prints them: who, "·", date. */
interface TrailerPart {
  role: "who" | "dot" | "date";
  text: string;
  line: number;
}
interface TrailerParts {
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
function segments(p: Paragraph): Segment[] {
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

function isTrailerLine(text: string): boolean {
  return text === "·" || (text.startsWith("•") ? AUTHORS_RE.test(text) : DATE_RE.test(text));
}

/** True when the parts continue the trailer in page order (who, "·", date), each once. */
function canExtend(trailer: TrailerParts, parts: readonly TrailerPart[]): boolean {
  const lastRole = trailer.parts[trailer.parts.length - 1]?.role;
  return lastRole === undefined || ORDER[parts[0]!.role] > ORDER[lastRole];
}

/**
 * Reads `who / · / date [upvotes]`. A part it cannot read is reported and dropped;
 * the paper stays (a date after the page date loses the date, not the paper).
 */
function readTrailer(t: TrailerParts, pageDate: string, title: string, problems: DumpProblem[]): Trailer {
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

/**
 * Abstract prose, never a title: long, a link in it, ending like a sentence clause,
 * or two sentences. Titles on the page are under 150 characters and may end with
 * "?" or "!", but not with "."; "vs. B" in a short title is not a sentence break.
 */
function isProse(line: string): boolean {
  return (
    line.length > 200 || line.includes("://") || /[.,;:]["')\]]?$/.test(line) || (line.length >= 100 && /[a-z0-9)][.!?] [A-Z]/.test(line))
  );
}

function describeStray(lines: readonly string[]): string {
  if (lines.length > 1) return `block skipped: ${lines.length} lines of text where a paper title was expected`;
  return `block skipped: a ${lines[0]!.length}-character line of text where a paper title was expected`;
}

/** A piece of the dump quoted in a problem: short enough for one line of output. */
function quote(s: string): string {
  return clip(s, 60, 1);
}
