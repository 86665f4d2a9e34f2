import { randomBytes } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import { fromAddress, parseFrom } from "./from.js";

/**
 * A one-off message (confirmation, test copy, alert) as plain text and HTML,
 * composed by nodemailer's MailComposer. `messageId` defaults to a random one
 * under the From domain.
 */
export async function buildSimpleMessage(m: {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  date: Date;
  messageId?: string;
  headers?: Record<string, string>;
}): Promise<Buffer[]> {
  const address = fromAddress(m.from);
  const domain = address.split("@")[1] ?? "localhost";
  const composer = new MailComposer({
    from: { name: parseFrom(m.from).name, address },
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    date: m.date,
    messageId: `<${m.messageId ?? `${randomBytes(12).toString("hex")}@${domain}`}>`,
    headers: m.headers,
  });
  return [await composer.compile().build()];
}
