import { extractLinks, pickCodeLink } from "../model/links.js";
import { isUsableKey, paperKey, paperSlug, sameAbstract, type Paper } from "../model/paper.js";
import { readHeader, reject } from "./page-header.js";
import { Paragraphs } from "./paragraphs.js";
import { describeStray, isProse, quote } from "./prose.js";
import { canExtend, EMPTY_TRAILER, isTrailerLine, readTrailer, segments, type TrailerPart, type TrailerParts } from "./trailer.js";

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

/** Titles on the page are under 150 characters; a longer line in a title's place is prose. */
const MAX_TITLE_LENGTH = 300;

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


