import { readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { describeError, PapermailError } from "../errors.js";

/** An entry of the dump folder that is not read, and why. */
export interface ListProblem {
  path: string;
  reason: string;
}

/**
 * Expands files and folders into dump files in ingest order: folders are read
 * recursively, sorted by name; hidden files and README files are skipped. Symbolic
 * links are followed. What cannot be read (a folder without permission, a broken
 * link, a FIFO, a socket or a device) is reported and skipped, never opened: the
 * good files still land. A path named on the command line that does not exist is
 * an error.
 */
export function listDumpFiles(paths: readonly string[]): { files: string[]; problems: ListProblem[] } {
  const files: string[] = [];
  const problems: ListProblem[] = [];
  const seenDirs = new Set<string>();

  const visit = (path: string, top: boolean) => {
    let stat: Stats;
    try {
      stat = statSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (top && code === "ENOENT") throw new PapermailError("NOT_FOUND", `${path}: no such file or folder`, { path });
      problems.push({ path, reason: code === "ENOENT" ? "a symbolic link to nothing (its target is missing)" : `cannot be read (${describeError(err)})` });
      return;
    }
    if (stat.isDirectory()) walk(path);
    else if (stat.isFile()) files.push(path);
    else problems.push({ path, reason: `not a regular file (${kindOf(stat)}); it is not opened` });
  };

  const walk = (dir: string) => {
    // A link back up the tree would loop: each real folder is read once.
    const real = safeRealpath(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let names: string[];
    try {
      names = readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (err) {
      problems.push({ path: dir, reason: `folder cannot be read (${describeError(err)})` });
      return;
    }
    for (const name of names) {
      if (name.startsWith(".") || /^readme(\.\w+)?$/i.test(name)) continue;
      visit(join(dir, name), false);
    }
  };

  for (const p of paths) visit(resolve(p), true);
  return { files: [...new Set(files)], problems };
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a file";
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
