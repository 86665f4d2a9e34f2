import { randomBytes } from "node:crypto";
import { buildMessageTemplate } from "./mime.js";
import { fromAddress } from "./from.js";

/** A one-off multipart message (confirmation, test copy) with a random Message-ID. */
export function buildSimpleMessage(m: { from: string; to: string; subject: string; html: string; text: string; date: Date; headers?: Record<string, string> }): Buffer[] {
  const domain = fromAddress(m.from).split("@")[1] ?? "localhost";
  const template = buildMessageTemplate({ subject: m.subject, html: m.html, text: m.text }, { from: m.from, date: m.date, extra: m.headers });
  return template.personalise({ to: m.to, messageId: `${randomBytes(12).toString("hex")}@${domain}` });
}
