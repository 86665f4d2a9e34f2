import { createDkimSigner } from "./dkim.js";
import type { Mailer, OutgoingMessage, SendOutcome } from "./mailer.js";
import { createTokenSource, type OAuth2Settings } from "./oauth2.js";
import { SmtpSession, type SmtpAuth, type SmtpSessionOptions, type SmtpTimeouts } from "./smtp-session.js";
import { SmtpError } from "./smtp-error.js";

export interface SmtpOptions {
  url: string;
  poolSize: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  /** Allow AUTH without encryption (a trusted local relay). */
  allowPlaintextAuth?: boolean;
  /** PEM of a private CA to trust. */
  ca?: string;
  /** XOAUTH2 instead of a password: the user comes from the URL. */
  oauth2?: OAuth2Settings;
  timeouts?: Partial<SmtpTimeouts>;
  maxReplyBytes?: number;
}

/** Answers that ask the sender to slow down, not to give up on the recipient. */
const THROTTLING = new Set([421, 451, 454]);

/** The session settings of an smtp:// or smtps:// URL. */
export function sessionOptions(options: SmtpOptions): SmtpSessionOptions {
  const url = new URL(options.url);
  const secure = url.protocol === "smtps:";
  const user = decodeURIComponent(url.username);
  let auth: SmtpAuth | undefined;
  if (options.oauth2) auth = { user, oauth2: createTokenSource(options.oauth2) };
  else if (user) auth = { user, pass: decodeURIComponent(url.password) };
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    auth,
    allowPlaintextAuth: options.allowPlaintextAuth,
    ca: options.ca,
    timeouts: options.timeouts,
    maxReplyBytes: options.maxReplyBytes,
  };
}

/**
 * A pool of SMTP sessions (nodemailer's SMTPConnection) that reports what became
 * of each message instead of retrying on its own: the ledger decides about
 * retries. DKIM signatures are made per message by our own signer (one hash
 * pass, one signature).
 */
export function createSmtpMailer(options: SmtpOptions): Mailer {
  const connectOptions = sessionOptions(options);
  const dkim = options.dkim ? createDkimSigner(options.dkim) : undefined;

  const idle: SmtpSession[] = [];
  const waiting: Array<() => void> = [];
  let open = 0;
  let closed = false;

  async function acquire(): Promise<SmtpSession> {
    for (;;) {
      const session = idle.pop();
      if (session && !session.closed) return session;
      if (session) {
        open--;
        continue;
      }
      if (open < options.poolSize) {
        open++;
        try {
          return await SmtpSession.open(connectOptions);
        } catch (err) {
          open--;
          waiting.shift()?.();
          throw err;
        }
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }

  function release(session: SmtpSession, healthy: boolean): void {
    if (healthy && !closed && !session.closed) idle.push(session);
    else {
      open--;
      session.close();
    }
    waiting.shift()?.();
  }

  return {
    description: describeSmtpServer(options.url),
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      let session: SmtpSession;
      try {
        session = await acquire();
      } catch (err) {
        return classifyConnect(err);
      }
      try {
        const chunks = dkim ? dkim(message.raw) : message.raw;
        const response = await session.send(message.from, message.to, chunks, message.smtpReady, message.onData);
        release(session, true);
        return { status: "sent", response };
      } catch (err) {
        // A refused envelope leaves the session usable once reset; anything else gets a fresh one.
        const usable = err instanceof SmtpError && err.failure === "reply" && (err.stage === "end-of-data" || (await session.reset()));
        release(session, usable);
        return classify(err);
      }
    },
    async close() {
      closed = true;
      for (const session of idle.splice(0)) session.quit();
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
 * A reply code decides: 5xx failed (with the step that was refused), throttling
 * answers slow the run, other 4xx wait for a later retry. Without one, the
 * connection broke or stalled: if the whole message had gone out the server may
 * have taken it (unknown); otherwise it surely did not, and sending it again is safe.
 */
function classify(err: unknown): SendOutcome {
  if (!(err instanceof SmtpError)) return { status: "retry", error: String(err), cause: "connection" };
  const code = err.responseCode;
  if (err.failure === "smtputf8") return { status: "failed", error: err.message, stage: "rcpt", relay: true };
  if (code !== undefined && code >= 500) return { status: "failed", error: err.message, code, stage: err.stage === "message" || err.stage === "connect" ? "data" : err.stage };
  if (code !== undefined && code >= 400) return { status: "retry", error: err.message, code, cause: THROTTLING.has(code) ? "throttled" : "temporary" };
  if (err.dataSent) return { status: "unknown", error: err.message, stalled: err.failure === "timeout" };
  return { status: "retry", error: err.message, cause: "connection" };
}

/** An SMTP server as the operator sees it: scheme, host and port, never the credentials in the URL. */
export function describeSmtpServer(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}
