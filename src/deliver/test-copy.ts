import type { Config } from "../config/load.js";
import type { DigestMessage } from "../render/digest-message.js";
import { fromAddress } from "../render/from.js";
import { buildMessageTemplate } from "../render/mime.js";
import { createMailer } from "./transport/create-mailer.js";
import type { SendOutcome } from "./transport/mailer.js";

/**
 * Sends one copy of a digest's message to an address, built exactly as a reader's is
 * (byte for byte, but for the recipient's own parts: address, Message-ID, and links
 * that unsubscribe nobody); records nothing. Shared by `send-digest --to` and the console.
 */
export async function sendTestCopy(config: Config, message: DigestMessage, to: string, now: Date): Promise<{ outcome: SendOutcome; mail: string }> {
  const domain = fromAddress(config.from).split("@")[1] ?? "localhost";
  const raw = buildMessageTemplate(message, message.headers).personalise({
    to,
    messageId: `test-${now.getTime().toString(36)}@${domain}`,
    unsubscribeUrl: `${config.publicUrl}/unsubscribe/TEST-COPY`,
    preferencesUrl: `${config.publicUrl}/preferences/TEST-COPY`,
  });
  const mailer = createMailer(config, "test");
  try {
    return { outcome: await mailer.send({ from: fromAddress(config.from), to, raw, name: `test-${now.getTime()}` }), mail: mailer.description };
  } finally {
    await mailer.close();
  }
}
