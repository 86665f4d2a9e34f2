import { rmSync } from "node:fs";
// @ts-expect-error: a plain JavaScript module shared with the benchmarks.
import { startDovecot as start } from "../../scripts/dovecot.js";
import { defer } from "./cleanup.js";
import { tempDir } from "./files.js";

/**
 * A real IMAP server (Debian's Dovecot) on 127.0.0.1 with one mailbox, `bounces`,
 * STARTTLS required (certificate from the test's own CA); stopped when the test ends.
 */
export async function startDovecot(): Promise<{
  url: string;
  caFile: string;
  deliver(raw: string | Buffer): void;
  files(): { cur: string[]; new: string[] };
}> {
  const dir = tempDir();
  const server = await start(dir);
  defer(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return server;
}
