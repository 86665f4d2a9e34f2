/**
 * CSV cells as spreadsheets read them. A cell that starts with = + - @ (or a tab or
 * carriage return) is a formula to Excel, LibreOffice and Google Sheets, so a topic
 * typed on the public form as `=HYPERLINK(...)` would run when an operator opens the
 * export: such cells get a leading apostrophe (OWASP's advice), which the import strips.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell, neutralised and quoted when it needs to be. */
export function csvField(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Splits one CSV line, honouring double quotes, and undoes `csvField`'s apostrophe. */
export function parseCsvLine(line: string): string[] {
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
      out.push(unneutralise(cur));
      cur = "";
    } else cur += ch;
  }
  out.push(unneutralise(cur));
  return out;
}

function unneutralise(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}
