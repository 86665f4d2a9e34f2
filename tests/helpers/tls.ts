import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: a plain JavaScript module shared with the benchmarks.
import { makeCertificates as make } from "../../scripts/dovecot.js";
import { defer } from "./cleanup.js";

/** A private CA and a server certificate it signed for 127.0.0.1 and localhost, made with openssl; removed after the test (or the file's tests). */
export function makeCertificates(): { caFile: string; key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "papermail-certs-"));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return make(dir);
}
