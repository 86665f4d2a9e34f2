import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../../errors.js";
import { displayPath } from "../../util/paths.js";
import type { Mailer } from "./mailer.js";

/**
 * Writes each message as an .eml file: the embedded default, so a fresh clone shows
 * real mail without a server. A file appears whole or not at all (written under a
 * hidden temporary name, then renamed), so a full disk never leaves half a message.
 */
export function createOutboxMailer(dir: string): Mailer {
  let made = false;
  return {
    description: `outbox ${displayPath(dir)}`,
    async send(message) {
      const file = join(dir, `${message.name}.eml`);
      const temporary = join(dir, `.${message.name}.${process.pid}.tmp`);
      try {
        if (!made) mkdirSync(dir, { recursive: true });
        made = true;
        message.onData?.();
        writeFileSync(temporary, Buffer.concat(message.raw));
        renameSync(temporary, file);
        return { status: "sent", response: `written to ${displayPath(file)}` };
      } catch (err) {
        rmSync(temporary, { force: true });
        return { status: "retry", error: `cannot write to the outbox: ${describeError(err)}`, cause: "unreachable" };
      }
    },
    async close() {},
  };
}
