import { checkAddress } from "./address.js";

/** One line of an import that was refused. */
export interface ImportProblem {
  line: number;
  value: string;
  reason: string;
}

/**
 * Reads addresses from text: one per line, or a CSV whose header has an `email`
 * column. Blank lines and # comments are skipped; bad lines are reported by number.
 */
export function readAddressList(text: string): { addresses: string[]; problems: ImportProblem[] } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = parseCsvLine(lines[0] ?? "").map((h) => h.trim().toLowerCase());
  const column = header.length > 1 || header[0] === "email" ? header.indexOf("email") : -1;
  if ((header.length > 1 || header[0] === "email") && column === -1) {
    return { addresses: [], problems: [{ line: 1, value: lines[0] ?? "", reason: "a CSV needs an `email` column" }] };
  }
  const addresses: string[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Set<string>();
  lines.forEach((raw, i) => {
    if ((column !== -1 && i === 0) || raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const value = column === -1 ? raw : (parseCsvLine(raw)[column] ?? "");
    const check = checkAddress(value);
    if (!check.ok) problems.push({ line: i + 1, value: value.trim(), reason: check.reason });
    else if (!seen.has(check.address)) {
      seen.add(check.address);
      addresses.push(check.address);
    }
  });
  return { addresses, problems };
}

/** Splits one CSV line, honouring double quotes. */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
