import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defer } from "./cleanup.js";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const SAMPLES = join(ROOT, "samples");
export const SAMPLE_FILES = ["000_8c28b59a6efcc713.txt", "001_62024e302652121a.txt", "002_7ef313157d39d4d3.txt", "003_8f9d0c8f438dc6d9.txt"].map((f) =>
  join(SAMPLES, f),
);
export const FIXTURES = join(ROOT, "tests", "fixtures");

/** A temporary folder, removed when the test ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "papermail-test-"));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
