import { createDkimSigner } from "./dkim.js";
import type { Mailer, OutgoingMessage, SendOutcome } from "./mailer.js";
import { SmtpClient, SmtpError, type SmtpTimeouts } from "./smtp-client.js";

export interface SmtpOptions {
  url: string;
  poolSize: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  /** Allow AUTH without encryption (a trusted local relay). */
  allowPlaintextAuth?: boolean;
  /** PEM of a private CA to trust. */
  ca?: string;
  timeouts?: Partial<SmtpTimeouts>;
}

/** Answers that ask the sender to slow down, not to give up on the recipient. */
const THROTTLING = new Set([421, 451, 454]);


/**
 * A pool of SMTP sessions that reports what became of each message instead of
 * retrying on its own: the ledger decides about retries. DKIM signatures are made
 * per message by our own signer (one hash pass, one signature).
 */
export function createSmtpMailer(options: SmtpOptions): Mailer {
  const url = new URL(options.url);
  const secure = url.protocol === "smtps:";
  const connectOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    allowPlaintextAuth: options.allowPlaintextAuth,
    ca: options.ca,
    timeouts: options.timeouts,
  };
  const dkim = options.dkim ? createDkimSigner(options.dkim) : undefined;

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
        return classifyConnect(err);
      }
      try {
        const chunks = dkim ? dkim(message.raw) : message.raw;
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
 * A failed session start: our settings (TLS, login) are a configuration error; a
 * server that answers "not now" at the greeting is throttling; anything else means
 * the server cannot be reached.
 */
function classifyConnect(err: unknown): SendOutcome {
  const error = err instanceof Error ? err.message : String(err);
  if (!(err instanceof SmtpError)) return { status: "retry", error, cause: "unreachable" };
  if (err.failure === "tls" || err.failure === "auth" || err.failure === "insecure") return { status: "retry", error, cause: "config", code: err.responseCode };
  if (err.responseCode !== undefined && err.responseCode >= 500) return { status: "retry", error, cause: "config", code: err.responseCode };
  if (err.responseCode !== undefined && err.responseCode >= 400) return { status: "retry", error, cause: "throttled", code: err.responseCode };
  return { status: "retry", error, cause: "unreachable" };
}

/**
 * A reply code decides: 5xx failed, throttling answers slow the run, other 4xx
 * wait for a later retry. Without one, the connection broke or stalled: if the
 * whole message had gone out the server may have taken it (unknown); otherwise it
 * surely did not, and sending it again is safe.
 */
function classify(err: unknown): SendOutcome {
  if (!(err instanceof SmtpError)) return { status: "retry", error: String(err), cause: "connection" };
  const code = err.responseCode;
  if (code !== undefined && code >= 500) return { status: "failed", error: err.message, code };
  if (code !== undefined && code >= 400) return { status: "retry", error: err.message, code, cause: THROTTLING.has(code) ? "throttled" : "temporary" };
  if (err.dataSent) return { status: "unknown", error: err.message, stalled: err.failure === "timeout" };
  return { status: "retry", error: err.message, cause: "connection" };
}
