import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { defer } from "./cleanup.js";
import { ROOT } from "./files.js";
import { waitFor } from "./wait.js";

export const CLI = join(ROOT, "dist", "cli.js");

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
      const code = err && typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 0;
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

/**
 * `papermail serve` started on ports the system picks (PAPERMAIL_PORT=0): resolves once
 * it says where it listens, with its output so far and a stop that waits for its exit.
 * Stopped when the test ends.
 */
export async function startServe(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const child = spawnCli(["serve", ...args], { cwd: options.cwd, env: { PAPERMAIL_PORT: "0", ...options.env } });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  defer(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  });
  await waitFor(() => /serving http:\/\/[^:]+:(\d+)\//.test(output.stdout) || child.exitCode !== null, "serve to start listening");
  const port = Number(/serving http:\/\/[^\s]+:(\d+)\//.exec(output.stdout)?.[1]);
  if (!port) throw new Error(`serve did not start:\n${output.stdout}\n${output.stderr}`);
  return {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    output,
    /** SIGTERM, then the exit code. */
    async stop(): Promise<number | null> {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
