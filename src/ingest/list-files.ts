import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { PapermailError } from "../errors.js";

/**
 * Expands files and folders into dump files in ingest order: folders are read
 * recursively, sorted by name; hidden files and README files are skipped.
 */
export function listDumpFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let stat;
    try {
      stat = statSync(abs);
    } catch {
      throw new PapermailError("NOT_FOUND", `${p}: no such file or folder`, { path: p });
    }
    if (stat.isDirectory()) files.push(...walk(abs));
    else files.push(abs);
  }
  return [...new Set(files)];
}

function walk(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".") || /^readme(\.\w+)?$/i.test(e.name)) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(full));
    else if (e.isFile()) out.push(full);
  }
  return out;
}
