import { PapermailError } from "../errors.js";

/**
 * The entries of a daily_papers JSON text, found without building it: one pass over
 * the bytes that tracks strings and nesting, so that a hostile answer (20 MB of
 * `[[[[...`) is refused at its 33rd bracket instead of being parsed whole. Each entry
 * is then parsed on its own, so memory follows the largest entry, not the file.
 */

export interface JsonLimits {
  /** Deepest nesting accepted anywhere: a daily_papers entry needs about six levels. */
  maxDepth: number;
  /** Largest single entry, in bytes: a real one is a few KB. */
  maxEntryBytes: number;
  /** Most entries read; beyond that the text is refused (a day lists a few hundred at most). */
  maxEntries: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxEntryBytes: 4 * 1024 * 1024, maxEntries: 1_000_000 };

/** One entry: its bytes' place in the text and the line it starts on. */
export interface JsonEntrySpan {
  start: number;
  end: number;
  line: number;
}

/** A JSON array of entries, JSON Lines (one per line), or one object (which is no list of entries). */
export type JsonLayout = { layout: "array" | "lines"; entries: JsonEntrySpan[] } | { layout: "object"; entries: JsonEntrySpan[] };

const rejected = (message: string, line?: number) => new PapermailError("DUMP_REJECTED", message, line === undefined ? {} : { line });

/**
 * Splits a JSON text (a top-level array, or JSON values one per line) into the spans of
 * its entries, in linear time. Throws DUMP_REJECTED naming the line when the nesting is
 * deeper than the limit, an entry is too large, a string or bracket is never closed, or
 * something other than entries stands between them.
 */
export function splitJsonEntries(bytes: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonLayout {
  let i = skipBom(bytes);
  let line = 1;
  const ws = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  const skipSpace = () => {
    while (i < bytes.length && ws(bytes[i]!)) {
      if (bytes[i] === 0x0a) line++;
      i++;
    }
  };
  skipSpace();
  const array = bytes[i] === 0x5b; // [
  const entries: JsonEntrySpan[] = [];
  if (array) {
    i++;
    skipSpace();
    if (bytes[i] === 0x5d) {
      i++;
      skipSpace();
      if (i < bytes.length) throw rejected(`line ${line}: not valid JSON (text after the closing bracket)`, line);
      return { layout: "array", entries };
    }
  }
  let multiLine = false;
  let lastLine = 0;
  while (i < bytes.length) {
    const startLine = line;
    const start = i;
    // JSON Lines: one value per line, never two on one.
    if (!array && startLine === lastLine) throw rejected(`line ${startLine}: not valid JSON (expected one daily_papers entry per line)`, startLine);
    i = skipValue(bytes, i, array ? 1 : 0, limits, () => line++, startLine);
    if (i - start > limits.maxEntryBytes) throw rejected(`line ${startLine}: entry ${entries.length} is ${mb(i - start)}, more than an entry can be (${mb(limits.maxEntryBytes)})`, startLine);
    if (line !== startLine) multiLine = true;
    lastLine = line;
    entries.push({ start, end: i, line: startLine });
    if (entries.length > limits.maxEntries) throw rejected(`more than ${limits.maxEntries} entries`);
    skipSpace();
    if (array) {
      if (bytes[i] === 0x2c) {
        i++;
        skipSpace();
        continue;
      }
      if (bytes[i] === 0x5d) {
        i++;
        skipSpace();
        if (i < bytes.length) throw rejected(`line ${line}: not valid JSON (text after the closing bracket)`, line);
        return { layout: "array", entries };
      }
      throw rejected(i >= bytes.length ? "not valid JSON: the list is never closed" : `line ${line}: not valid JSON (expected , or ] between entries)`, line);
    }
  }
  if (array) throw rejected("not valid JSON: the list is never closed");
  // Values one per line; a single value spread over several lines is one object, not a list.
  if (multiLine) {
    if (entries.length === 1) return { layout: "object", entries };
    throw rejected(`line ${entries[0]!.line}: not valid JSON (expected one daily_papers entry per line)`, entries[0]!.line);
  }
  return { layout: "lines", entries };
}

/** Where the value starting at `i` ends, checking its nesting; `onLine` is told of each line break inside it. */
function skipValue(bytes: Uint8Array, i: number, depth: number, limits: JsonLimits, onLine: () => void, line: number): number {
  const first = bytes[i];
  if (first !== 0x7b && first !== 0x5b && first !== 0x22) {
    // A number, true, false or null: up to the next separator.
    const start = i;
    while (i < bytes.length && !isSeparator(bytes[i]!)) i++;
    if (i === start) throw rejected(`line ${line}: not valid JSON (unexpected "${String.fromCharCode(bytes[i] ?? 32)}")`, line);
    return i;
  }
  let level = 0;
  let at = line;
  for (; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x22) {
      // A string: to its closing quote, escapes skipped.
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) {
        if (bytes[i] === 0x5c) i++;
        else if (bytes[i] === 0x0a) throw rejected(`line ${at}: not valid JSON (a line break inside a string)`, at);
      }
      if (i >= bytes.length) throw rejected(`line ${at}: not valid JSON (a string is never closed)`, at);
      if (level === 0) return i + 1;
    } else if (c === 0x7b || c === 0x5b) {
      level++;
      if (depth + level > limits.maxDepth) throw rejected(`line ${at}: JSON nested more than ${limits.maxDepth} levels deep, which no daily_papers answer is`, at);
    } else if (c === 0x7d || c === 0x5d) {
      level--;
      if (level === 0) return i + 1;
      if (level < 0) throw rejected(`line ${at}: not valid JSON (a bracket closes what was never opened)`, at);
    } else if (c === 0x0a) {
      at++;
      onLine();
    }
  }
  throw rejected(`line ${line}: not valid JSON (an entry is never closed)`, line);
}

function isSeparator(c: number): boolean {
  return c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipBom(bytes: Uint8Array): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

function mb(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

/** Parses one entry's span; DUMP_REJECTED naming its line when it is not valid JSON. */
export function parseEntry(bytes: Buffer, span: JsonEntrySpan): unknown {
  try {
    return JSON.parse(bytes.toString("utf8", span.start, span.end));
  } catch (err) {
    throw rejected(`line ${span.line}: not valid JSON (${(err as Error).message})`, span.line);
  }
}

/**
 * The nesting check of splitJsonEntries for a text that arrives in pieces (an answer
 * as it streams in): `feed` throws as soon as the nesting passes `maxDepth`, before
 * the rest is read.
 */
export function createDepthGuard(maxDepth: number): { feed(chunk: Uint8Array): void } {
  let depth = 0;
  let inString = false;
  let escaped = false;
  return {
    feed(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x5b || c === 0x7b) {
          if (++depth > maxDepth) throw rejected(`JSON nested more than ${maxDepth} levels deep, which no daily_papers answer is`);
        } else if (c === 0x5d || c === 0x7d) depth--;
      }
    },
  };
}
