import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeError, PapermailError } from "../errors.js";

/** One message to read, or why a path could not give one. */
export type SourceMessage = { origin: string; raw: Buffer } | { origin: string; error: string };

/**
 * The messages in .eml files, maildir folders (new/ and cur/) and mbox files, in
 * name order. A folder that is not a maildir is read as a folder of .eml files.
 */
export function* readMessageSources(paths: readonly string[]): Generator<SourceMessage> {
  for (const p of paths) {
    const path = resolve(p);
    if (!existsSync(path)) throw new PapermailError("NOT_FOUND", `${p}: no such file or folder`, { path: p });
    if (statSync(path).isDirectory()) {
      const maildir = ["new", "cur"].filter((d) => existsSync(join(path, d)));
      const dirs = maildir.length > 0 ? maildir.map((d) => join(path, d)) : [path];
      for (const dir of dirs) {
        for (const name of readdirSync(dir).filter((n) => !n.startsWith(".")).sort()) yield* readFile(join(dir, name));
      }
    } else yield* readFile(path);
  }
}

function* readFile(path: string): Generator<SourceMessage> {
  let raw: Buffer;
  try {
    if (!statSync(path).isFile()) return yield { origin: path, error: "not a regular file" };
    raw = readFileSync(path);
  } catch (err) {
    return yield { origin: path, error: `cannot read: ${describeError(err)}` };
  }
  if (raw.subarray(0, 5).toString("latin1") === "From ") yield* splitMbox(path, raw);
  else yield { origin: path, raw };
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
