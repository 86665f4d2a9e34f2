import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "vitest";

export const ROOT = resolve(import.meta.dirname, "..");
export const SAMPLES = join(ROOT, "samples");
export const SAMPLE_FILES = ["000_8c28b59a6efcc713.txt", "001_62024e302652121a.txt", "002_7ef313157d39d4d3.txt", "003_8f9d0c8f438dc6d9.txt"].map((f) =>
  join(SAMPLES, f),
);
export const CLI = join(ROOT, "dist", "cli.js");

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A temporary folder removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "papermail-test-"));
  dirs.push(dir);
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, in `cwd`, with only the given PAPERMAIL_* variables. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: options.cwd, TZ: "UTC", ...options.env };
    const child = execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 0;
      resolvePromise({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Starts the CLI without waiting, for tests that kill it or run two at once. */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: options.cwd, TZ: "UTC", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
