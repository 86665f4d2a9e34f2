import { Readable } from "node:stream";
import DKIM from "nodemailer/lib/dkim";
import type { Mailer, OutgoingMessage, SendOutcome } from "./mailer.js";
import { SmtpClient, SmtpError } from "./smtp-client.js";

export interface SmtpOptions {
  url: string;
  poolSize: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

/** Both List-Unsubscribe headers are signed, as RFC 8058 asks. */
const DKIM_HEADERS =
  "From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:List-Id:List-Unsubscribe:List-Unsubscribe-Post";

/**
 * A pool of SMTP sessions that reports what became of each message instead of
 * retrying on its own: the ledger decides about retries. DKIM signing uses
 * nodemailer's signer.
 */
export function createSmtpMailer(options: SmtpOptions): Mailer {
  const url = new URL(options.url);
  const secure = url.protocol === "smtps:";
  const connectOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
  };
  const dkim = options.dkim ? new DKIM({ ...options.dkim, headerFieldNames: DKIM_HEADERS }) : undefined;

  const idle: SmtpClient[] = [];
  const waiting: Array<() => void> = [];
  let open = 0;
  let closed = false;

  async function acquire(): Promise<SmtpClient> {
    for (;;) {
      const client = idle.pop();
      if (client && !client.closed) return client;
      if (client) {
        open--;
        continue;
      }
      if (open < options.poolSize) {
        open++;
        try {
          return await SmtpClient.connect(connectOptions);
        } catch (err) {
          open--;
          waiting.shift()?.();
          throw err;
        }
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }

  function release(client: SmtpClient, healthy: boolean): void {
    if (healthy && !closed && !client.closed) idle.push(client);
    else {
      open--;
      client.close();
    }
    waiting.shift()?.();
  }

  return {
    description: `${url.protocol}//${url.host}`,
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      let client: SmtpClient;
      try {
        client = await acquire();
      } catch (err) {
        return { status: "retry", error: err instanceof Error ? err.message : String(err), unreachable: true };
      }
      try {
        const chunks = dkim ? [await signed(dkim, message.raw)] : message.raw;
        const response = await client.send(message.from, message.to, chunks);
        release(client, true);
        return { status: "sent", response };
      } catch (err) {
        // A server that refused one message may still be fine, but a fresh session is the safe bet.
        release(client, false);
        return classify(err);
      }
    },
    async close() {
      closed = true;
      for (const client of idle.splice(0)) client.quit();
    },
  };
}

/**
 * A reply code decides between retry (4xx) and failed (5xx). Without one, the
 * connection broke: if the whole message had gone out the server may have taken
 * it, so the outcome is unknown; otherwise it surely did not, and a retry is safe.
 */
function classify(err: unknown): SendOutcome {
  if (!(err instanceof SmtpError)) return { status: "retry", error: String(err) };
  if (err.responseCode !== undefined && err.responseCode >= 400) {
    return { status: err.responseCode >= 500 ? "failed" : "retry", error: err.message };
  }
  return { status: err.dataSent ? "unknown" : "retry", error: err.message };
}

async function signed(dkim: DKIM, chunks: readonly Buffer[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of dkim.sign(Readable.from([Buffer.concat(chunks)]))) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
