import type { Readable } from "node:stream";
import tls from "node:tls";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { NodemailerError } from "nodemailer/lib/errors";
import { describeSmtpError, insecureLogin, SmtpError, type SmtpStage } from "./smtp-error.js";
import { PreparedMessage } from "./prepared-message.js";
import type { TokenSource } from "./oauth2.js";

/** Deadlines of each step (RFC 5321 4.5.3.2 gives the minimums servers and clients should allow). */
export interface SmtpTimeouts {
  /** Connecting, TLS, greeting, EHLO and login together. */
  connectMs: number;
  /** MAIL FROM, RCPT TO and DATA together (5 minutes). */
  commandMs: number;
  /** Writing the message and the reply after its final "." (10 minutes). */
  endOfDataMs: number;
}

export const DEFAULT_TIMEOUTS: SmtpTimeouts = { connectMs: 60_000, commandMs: 5 * 60_000, endOfDataMs: 10 * 60_000 };

/** The longest reply (EHLO lines included) a server may send; a hostile one that never ends its reply is cut off here. */
export const MAX_REPLY_BYTES = 64 * 1024;

export type SmtpAuth = { user: string; pass: string } | { user: string; oauth2: TokenSource };

export interface SmtpSessionOptions {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://); otherwise STARTTLS is used when offered, and required before a login. */
  secure: boolean;
  auth?: SmtpAuth;
  /** Allow a login on a connection that is not encrypted (a trusted local relay only). */
  allowPlaintextAuth?: boolean;
  /** Extra certificate authority to trust (PEM), for a relay with a private CA. */
  ca?: string;
  timeouts?: Partial<SmtpTimeouts>;
  maxReplyBytes?: number;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * One SMTP session over nodemailer's SMTPConnection, with the deadlines and the
 * rules papermail keeps: the password never crosses an unencrypted connection,
 * every step ends within its deadline (timers we own), and each failure says how
 * far the message had got, so the ledger can tell "not sent" from "maybe sent".
 */
export class SmtpSession {
  private readonly connection: SMTPConnection;
  private readonly timeouts: SmtpTimeouts;
  private readonly where: string;
  private settleCurrent: ((err: NodemailerError) => void) | undefined;
  private ended = false;
  private smtpUtf8 = false;
  /**
   * The data of the message being sent, in one piece: the socket gets one write per
   * message. Reused for the next message, which starts only after the server
   * answered this one's end of data.
   */
  private outgoing: Buffer = Buffer.alloc(0);

  private constructor(private readonly options: SmtpSessionOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.where = `${options.host}:${options.port}`;
    const requireTLS = Boolean(options.auth) && !options.secure && !options.allowPlaintextAuth;
    this.connection = new SMTPConnection({
      host: options.host,
      port: options.port,
      secure: options.secure,
      // With credentials, STARTTLS is asked for even when not offered: a server (or a man in the middle) that drops it gets no password.
      requireTLS,
      connectionTimeout: this.timeouts.connectMs,
      greetingTimeout: this.timeouts.connectMs,
      // Our own timers end each step; this only notices a connection that went silent for longer than any of them.
      socketTimeout: this.timeouts.endOfDataMs + 60_000,
      maxResponseSize: options.maxReplyBytes ?? MAX_REPLY_BYTES,
      tls: options.ca ? { ca: [...tls.rootCertificates, options.ca] } : undefined,
      logger: false,
    });
    // Errors arrive as events (and for a send, through its callback too); whichever comes first settles the step.
    this.connection.on("error", (err: NodemailerError) => this.settleCurrent?.(err));
    this.connection.on("end", () => {
      this.ended = true;
      // Later, so that a reply handed over as the connection closes (a 421) settles the step first.
      setImmediate(() => this.settleCurrent?.(Object.assign(new Error("connection closed by the server"), { code: "ECONNECTION" }) as NodemailerError));
    });
  }

  /** Opens a session: greeting, EHLO, STARTTLS when offered (required before a login), login; all within one deadline. */
  static async open(options: SmtpSessionOptions): Promise<SmtpSession> {
    const session = new SmtpSession(options);
    try {
      await session.step<void>("connect", session.timeouts.connectMs, "connecting", (done) => session.connection.connect((err) => done(err ?? null)));
      // The last reply before any login is the EHLO reply (after STARTTLS, the encrypted one).
      session.smtpUtf8 = /^\d{3}[ -]SMTPUTF8\b/im.test(String(session.connection.lastServerResponse || ""));
      const auth = options.auth;
      if (auth) {
        if (!session.connection.secure && !options.allowPlaintextAuth) throw session.insecure();
        await session.step<void>("connect", session.timeouts.connectMs, "the login", (done) =>
          session.connection.login("oauth2" in auth ? { user: auth.user, oauth2: auth.oauth2.forUser(auth.user) } : { user: auth.user, pass: auth.pass }, (err) => done(err)),
        );
      }
      return session;
    } catch (err) {
      session.close();
      throw err;
    }
  }

  /** True once the connection failed or was closed. */
  get closed(): boolean {
    return this.ended || this.connection.destroyed;
  }

  /**
   * Sends one prepared message to one recipient; resolves with the server's reply
   * to its end of data. Dots are stuffed on the way out unless `smtpReady` says
   * the message needs none (see PreparedMessage).
   */
  async send(from: string, to: string, chunks: readonly Buffer[], smtpReady = false, onData?: () => void): Promise<string> {
    if ((NON_ASCII.test(to) || NON_ASCII.test(from)) && !this.smtpUtf8) {
      throw new SmtpError(
        `${this.where} does not offer SMTPUTF8, which ${NON_ASCII.test(to) ? `the address ${to}` : `the sender ${from}`} needs (non-ASCII letters before the @): use a relay that supports SMTPUTF8`,
        "rcpt",
        "smtputf8",
      );
    }
    let stage: SmtpStage = "mail";
    let size = 0;
    for (const c of chunks) size += c.length;
    const info = await this.step<{ response: string }>(
      () => stage,
      this.timeouts.commandMs,
      "the envelope",
      (done, extend) => {
        const message = new PreparedMessage(
          chunks,
          smtpReady,
          { socket: () => this.connection._socket || undefined, join: (pieces) => this.joinOutgoing(pieces) },
          () => {
            onData?.();
            stage = "message";
            extend(this.timeouts.endOfDataMs, "the end of the message data");
          },
          () => (stage = "end-of-data"),
        );
        // nodemailer needs only what it calls: on, removeListener, destroy and pipe.
        this.connection.send({ from, to: [to], size }, message as unknown as Readable, (err, sent) => done(err, sent));
      },
    );
    return info.response;
  }

  private joinOutgoing(pieces: readonly Buffer[]): Buffer {
    let size = 0;
    for (const p of pieces) size += p.length;
    if (this.outgoing.length < size) this.outgoing = Buffer.allocUnsafeSlow(Math.max(size + (size >> 2), 160 * 1024));
    let at = 0;
    for (const p of pieces) at += p.copy(this.outgoing, at);
    return this.outgoing.subarray(0, size);
  }

  /** Ends a refused transaction (RSET) so the session can carry the next message; false when it cannot. */
  async reset(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.step<void>("connect", this.timeouts.commandMs, "RSET", (done) => this.connection.reset((err) => done(err)));
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  /** Says QUIT and closes. */
  quit(): void {
    if (!this.closed) this.connection.quit();
  }

  /** Closes at once. */
  close(): void {
    this.connection.close();
  }

  /**
   * Runs one step under a deadline we own: when it passes, the connection is closed
   * and the step fails as a timeout. `extend` starts a new deadline for the rest.
   */
  private step<T>(
    stageOf: SmtpStage | (() => SmtpStage),
    ms: number,
    what: string,
    run: (done: (err: NodemailerError | null | undefined, value?: T) => void, extend: (ms: number, what: string) => void) => void,
  ): Promise<T> {
    const stage = () => (typeof stageOf === "function" ? stageOf() : stageOf);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: NodemailerError | SmtpError | null | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.settleCurrent = undefined;
        if (err) reject(err instanceof SmtpError ? err : this.describe(err, stage()));
        else resolve(value as T);
      };
      const arm = (limit: number, doing: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish(new SmtpError(`${this.where}: no answer to ${doing} within ${Math.round(limit / 1000)} s`, stage(), "timeout"));
          this.close();
        }, limit);
      };
      arm(ms, what);
      this.settleCurrent = (err) => finish(err);
      if (this.closed) return finish(Object.assign(new Error("connection closed"), { code: "ECONNECTION" }) as NodemailerError);
      run(finish, arm);
    });
  }

  private insecure(): SmtpError {
    return insecureLogin(this.where);
  }

  /** A nodemailer error in papermail's terms: which step, whose fault, and what to change. */
  private describe(err: NodemailerError, stage: SmtpStage): SmtpError {
    return describeSmtpError(err, stage, { where: this.where, secure: this.options.secure, oauth2: Boolean(this.options.auth && "oauth2" in this.options.auth), login: Boolean(this.options.auth) });
  }
}
