import { neutralise } from "./neutralise.js";

/** A one-line progress bar on stderr; silent unless enabled (a terminal, not --json). */
export interface Progress {
  update(done: number, label: string): void;
  finish(): void;
}

const silent: Progress = { update() {}, finish() {} };

/** Makes a progress bar over `total` units (bytes, recipients), drawn at most 10 times a second. */
export function createProgress(options: { total: number; enabled: boolean; unit?: "bytes" | "items"; stream?: NodeJS.WriteStream }): Progress {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled || !stream.isTTY || options.total <= 0) return silent;
  const started = Date.now();
  let last = 0;
  let drawn = false;
  const fmt = (n: number) => (options.unit === "items" ? String(Math.round(n)) : `${(n / 1e6).toFixed(1)} MB`);
  // A terminal that reports no width (0, undefined) still gets a usable line.
  const columns = () => Math.max(20, stream.columns || 80);
  return {
    update(done, label) {
      const now = Date.now();
      if (now - last < 100 && done < options.total) return;
      last = now;
      const ratio = Math.max(0, Math.min(1, done / options.total || 0));
      const width = 24;
      const bar = "#".repeat(Math.round(ratio * width)).padEnd(width, "-");
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const text = `[${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(options.total)} ${fmt(rate)}/s ${neutralise(label)}`;
      const cols = columns();
      stream.write(`\r${text.slice(0, cols - 1).padEnd(cols - 1)}`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write(`\r${" ".repeat(columns() - 1)}\r`);
      drawn = false;
    },
  };
}
