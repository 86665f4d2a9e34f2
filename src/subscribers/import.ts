import { checkAddress } from "../model/address.js";
import { FORM_FIELDS, parseChoices, type ReaderChoices } from "../model/choices.js";
import { parseCsvLine } from "../util/csv.js";

/** One line of an import that was refused. */
export interface ImportProblem {
  line: number;
  value: string;
  reason: string;
}

/** The CSV columns that carry a reader's choices, as `subscribers export` writes them. */
const CHOICE_COLUMNS = FORM_FIELDS;

/**
 * Reads addresses from text: one per line, or a CSV whose header has an `email`
 * column (and optionally the choice columns `subscribers export` writes: cadence,
 * topics, min_upvotes, format). Blank lines and # comments are skipped; bad lines
 * are reported by number.
 */
export function readAddressList(text: string): { addresses: string[]; choices: Map<string, Partial<ReaderChoices>>; problems: ImportProblem[] } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = parseCsvLine(lines[0] ?? "").map((h) => h.trim().toLowerCase());
  const column = header.length > 1 || header[0] === "email" ? header.indexOf("email") : -1;
  if ((header.length > 1 || header[0] === "email") && column === -1) {
    return { addresses: [], choices: new Map(), problems: [{ line: 1, value: lines[0] ?? "", reason: "a CSV needs an `email` column" }] };
  }
  const choiceColumns = Object.entries(CHOICE_COLUMNS)
    .map(([key, name]) => [key, column === -1 ? -1 : header.indexOf(name)] as const)
    .filter(([, i]) => i !== -1);
  const choices = new Map<string, Partial<ReaderChoices>>();
  const addresses: string[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Set<string>();
  lines.forEach((raw, i) => {
    if ((column !== -1 && i === 0) || raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const fields = column === -1 ? [raw] : parseCsvLine(raw);
    const value = column === -1 ? raw : (fields[column] ?? "");
    const check = checkAddress(value);
    if (!check.ok) return problems.push({ line: i + 1, value: value.trim(), reason: check.reason });
    if (choiceColumns.length > 0) {
      const parsed = parseChoices(Object.fromEntries(choiceColumns.map(([key, at]) => [key, fields[at] === "" && key !== "topics" ? undefined : fields[at]])), "form");
      if (!parsed.ok) return problems.push({ line: i + 1, value: value.trim(), reason: parsed.error });
      choices.set(check.address, parsed.choices);
    }
    if (!seen.has(check.address)) {
      seen.add(check.address);
      addresses.push(check.address);
    }
  });
  return { addresses, choices, problems };
}
