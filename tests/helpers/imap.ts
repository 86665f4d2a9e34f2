import { rmSync } from "node:fs";
import { afterEach } from "vitest";
// @ts-expect-error: a plain JavaScript module shared with the benchmarks.
import { startDovecot as start } from "../scripts/dovecot.js";
import { tempDir } from "./helpers.js";

const running: Array<{ stop(): void; dir: string }> = [];
afterEach(() => {
  while (running.length) {
    const d = running.pop()!;
    d.stop();
    rmSync(d.dir, { recursive: true, force: true });
  }
});

/**
 * A real IMAP server (Debian's Dovecot) on 127.0.0.1 with one mailbox, `bounces`,
 * STARTTLS required (certificate from the test's own CA); stopped after the test.
 */
export async function startDovecot(): Promise<{
  url: string;
  caFile: string;
  deliver(raw: string | Buffer): void;
  files(): { cur: string[]; new: string[] };
}> {
  const dir = tempDir();
  const server = await start(dir);
  running.push({ stop: server.stop, dir });
  return server;
}
