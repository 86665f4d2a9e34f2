import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeError, PapermailError } from "../errors.js";

/** One message to read, or why a path could not give one. */
export type SourceMessage = { origin: string; raw: Buffer } | { origin: string; error: string };

/**
 * The messages in .eml files, maildir folders (new/ and cur/) and mbox files, in
 * name order. A folder that is not a maildir is read as a folder of .eml files.
 */
export function* readMessageSources(paths: readonly string[], maxBytes = Infinity): Generator<SourceMessage> {
  for (const p of paths) {
    const path = resolve(p);
    if (!existsSync(path)) throw new PapermailError("NOT_FOUND", `${p}: no such file or folder`, { path: p });
    if (statSync(path).isDirectory()) {
      const maildir = ["new", "cur"].filter((d) => existsSync(join(path, d)));
      const dirs = maildir.length > 0 ? maildir.map((d) => join(path, d)) : [path];
      for (const dir of dirs) {
        for (const name of readdirSync(dir).filter((n) => !n.startsWith(".")).sort()) yield* readFile(join(dir, name), maxBytes);
      }
    } else yield* readFile(path, maxBytes);
  }
}

/**
 * One file's messages. A message file larger than `maxBytes` is not read at all; an
 * mbox (it starts with "From ") is read whole and each of its messages checked later.
 */
function* readFile(path: string, maxBytes: number): Generator<SourceMessage> {
  let raw: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return yield { origin: path, error: "not a regular file" };
    if (stat.size > maxBytes && !startsLikeMbox(path)) {
      return yield { origin: path, error: `${(stat.size / 1024 / 1024).toFixed(1)} MB, more than PAPERMAIL_BOUNCE_MAX_MB (${Math.round(maxBytes / 1024 / 1024)} MB): not read` };
    }
    raw = readFileSync(path);
  } catch (err) {
    return yield { origin: path, error: `cannot read: ${describeError(err)}` };
  }
  if (raw.subarray(0, 5).toString("latin1") === "From ") yield* splitMbox(path, raw);
  else yield { origin: path, raw };
}

function startsLikeMbox(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(5);
    readSync(fd, head, 0, 5, 0);
    return head.toString("latin1") === "From ";
  } finally {
    closeSync(fd);
  }
}

/** mbox (mboxrd and mboxo): messages start at "From " lines; ">From " lines lose one ">". */
function* splitMbox(path: string, raw: Buffer): Generator<SourceMessage> {
  const text = raw.toString("latin1");
  const starts = [...text.matchAll(/^From [^\n]*\n/gm)].filter((m) => m.index === 0 || text[m.index! - 1] === "\n");
  for (let i = 0; i < starts.length; i++) {
    const begin = starts[i]!.index! + starts[i]![0].length;
    const end = i + 1 < starts.length ? starts[i + 1]!.index! : text.length;
    const body = text.slice(begin, end).replace(/^>(>*From )/gm, "$1").replace(/\n$/, "");
    yield { origin: `${path}#${i + 1}`, raw: Buffer.from(body, "latin1") };
  }
}
