import type { Config } from "../config.js";
import { fillRecipient, type RenderedDigest } from "../render/email.js";
import { fromAddress } from "../render/from.js";
import { listId } from "../render/links.js";
import { buildSimpleMessage } from "../render/simple-message.js";
import { createMailer } from "./create-mailer.js";
import type { SendOutcome } from "./mailer.js";

/**
 * Sends one copy of a rendered digest to an address, marked "[test]", with links that
 * unsubscribe nobody; records nothing. Shared by `send-digest --to` and the console.
 */
export async function sendTestCopy(config: Config, rendered: RenderedDigest, to: string, now: Date): Promise<{ outcome: SendOutcome; mail: string }> {
  const filled = fillRecipient(rendered, { recipient: to, unsubscribeUrl: `${config.publicUrl}/unsubscribe/TEST-COPY`, preferencesUrl: `${config.publicUrl}/preferences/TEST-COPY` });
  const raw = await buildSimpleMessage({
    from: config.from,
    to,
    subject: `[test] ${rendered.subject}`,
    html: filled.html,
    text: filled.text,
    date: now,
    headers: { "List-Id": listId(config) },
  });
  const mailer = createMailer(config, "test");
  try {
    return { outcome: await mailer.send({ from: fromAddress(config.from), to, raw, name: `test-${now.getTime()}` }), mail: mailer.description };
  } finally {
    await mailer.close();
  }
}
