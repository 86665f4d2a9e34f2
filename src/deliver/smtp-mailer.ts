import { Readable } from "node:stream";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import DKIM from "nodemailer/lib/dkim";
import type { Mailer, OutgoingMessage, SendOutcome } from "./mailer.js";

export interface SmtpOptions {
  url: string;
  poolSize: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

/** Both List-Unsubscribe headers are signed, as RFC 8058 asks. */
const DKIM_HEADERS =
  "From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:List-Id:List-Unsubscribe:List-Unsubscribe-Post";

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * A pool of SMTP connections (nodemailer's SMTPConnection) that reports what became
 * of each message instead of retrying on its own: the ledger decides about retries.
 */
export function createSmtpMailer(options: SmtpOptions): Mailer {
  const url = new URL(options.url);
  const secure = url.protocol === "smtps:";
  const connectionOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
    allowInternalNetworkInterfaces: true,
  };
  const auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined;
  const dkim = options.dkim ? new DKIM({ ...options.dkim, headerFieldNames: DKIM_HEADERS }) : undefined;

  const idle: SMTPConnection[] = [];
  const waiting: Array<() => void> = [];
  let open = 0;
  let closed = false;

  function connect(): Promise<SMTPConnection> {
    return new Promise((resolve, reject) => {
      const conn = new SMTPConnection(connectionOptions);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(err);
      };
      conn.once("error", fail);
      conn.connect(() => {
        if (!auth) {
          settled = true;
          return resolve(conn);
        }
        conn.login(auth, (err) => {
          if (err) return fail(err);
          settled = true;
          resolve(conn);
        });
      });
    });
  }

  async function acquire(): Promise<SMTPConnection> {
    for (;;) {
      const conn = idle.pop();
      if (conn) return conn;
      if (open < options.poolSize) {
        open++;
        try {
          const c = await connect();
          // Errors after the handshake are reported through send callbacks; keep the emitter quiet.
          c.on("error", () => undefined);
          c.once("end", () => discard(c));
          return c;
        } catch (err) {
          open--;
          wakeOne();
          throw err;
        }
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }

  function wakeOne() {
    waiting.shift()?.();
  }

  function release(conn: SMTPConnection) {
    if (closed) return conn.quit();
    idle.push(conn);
    wakeOne();
  }

  const dead = new WeakSet<SMTPConnection>();
  function discard(conn: SMTPConnection) {
    if (dead.has(conn)) return;
    dead.add(conn);
    const i = idle.indexOf(conn);
    if (i !== -1) idle.splice(i, 1);
    open--;
    conn.close();
    wakeOne();
  }

  return {
    description: `${url.protocol}//${url.host}`,
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      let conn: SMTPConnection;
      try {
        conn = await acquire();
      } catch (err) {
        return classify(err as SmtpError, false);
      }
      const source = Readable.from([message.raw]);
      const body = dkim ? dkim.sign(source) : source;
      return new Promise<SendOutcome>((resolve) => {
        conn.send({ from: message.from, to: [message.to] }, body, (err, info) => {
          if (err) {
            // A server that rejected a message may still be fine, but a fresh connection is the safe bet.
            discard(conn);
            return resolve(classify(err as SmtpError, source.readableEnded));
          }
          release(conn);
          resolve({ status: "sent", response: info?.response ?? "250" });
        });
      });
    },
    async close() {
      closed = true;
      for (const conn of idle.splice(0)) conn.quit();
    },
  };
}

/**
 * A reply code decides between retry (4xx) and failed (5xx). Without one, the
 * connection broke: if the whole message had gone out the server may have taken
 * it, so the outcome is unknown; otherwise it surely did not, and a retry is safe.
 */
function classify(err: SmtpError, messageWasSent: boolean): SendOutcome {
  const reply = err.response ?? err.message;
  if (typeof err.responseCode === "number" && err.responseCode >= 400) {
    return { status: err.responseCode >= 500 ? "failed" : "retry", error: reply };
  }
  return { status: messageWasSent ? "unknown" : "retry", error: `${err.code ?? "ERROR"}: ${err.message}` };
}
