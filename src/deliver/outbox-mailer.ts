import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../errors.js";
import { displayPath } from "../commands/context.js";
import type { Mailer } from "./mailer.js";

/** Writes each message as an .eml file: the embedded default, so a fresh clone shows real mail without a server. */
export function createOutboxMailer(dir: string): Mailer {
  let made = false;
  return {
    description: `outbox ${displayPath(dir)}`,
    async send(message) {
      try {
        if (!made) mkdirSync(dir, { recursive: true });
        made = true;
        writeFileSync(join(dir, `${message.name}.eml`), Buffer.concat(message.raw));
        return { status: "sent", response: "written" };
      } catch (err) {
        return { status: "retry", error: `cannot write to the outbox: ${describeError(err)}`, unreachable: true };
      }
    },
    async close() {},
  };
}
