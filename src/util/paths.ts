import { dirname, isAbsolute, join, relative } from "node:path";

/** A folder papermail keeps beside its database (var/ by default): journals that must outlive a process. */
export function besideDatabase(dbPath: string, name: string): string {
  return join(dirname(dbPath), name);
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
