import net from "node:net";
import { hostname } from "node:os";
import tls from "node:tls";
import { PapermailError } from "../errors.js";

/**
 * What kind of failure an SMTP step met:
 * - reply: the server answered with an error code (`responseCode`);
 * - connection: the connection failed or closed;
 * - timeout: no answer within the step's deadline;
 * - tls, auth, insecure: our settings do not fit the server (a configuration error).
 */
export type SmtpFailure = "reply" | "connection" | "timeout" | "tls" | "auth" | "insecure";

/** A failed SMTP step: the server's reply code when there was one, and whether the whole message had gone out. */
export class SmtpError extends PapermailError {
  constructor(
    message: string,
    readonly responseCode: number | undefined,
    /** True once the whole message and its terminating "." were written to the network. */
    readonly dataSent: boolean,
    readonly failure: SmtpFailure = responseCode === undefined ? "connection" : "reply",
  ) {
    super("SMTP", message, { responseCode, dataSent, failure });
  }
}

/** Deadlines of each step (RFC 5321 4.5.3.2 gives the minimums servers and clients should allow). */
export interface SmtpTimeouts {
  /** Connecting, TLS, greeting, EHLO and AUTH together. */
  connectMs: number;
  /** MAIL FROM, RCPT TO and DATA (5 minutes). */
  commandMs: number;
  /** The reply after the message's final "." (10 minutes). */
  endOfDataMs: number;
}

export const DEFAULT_TIMEOUTS: SmtpTimeouts = { connectMs: 60_000, commandMs: 5 * 60_000, endOfDataMs: 10 * 60_000 };

export interface SmtpConnectOptions {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://); otherwise STARTTLS is used when offered. */
  secure: boolean;
  auth?: { user: string; pass: string };
  /** Allow AUTH on a connection that is not encrypted (a trusted local relay only). */
  allowPlaintextAuth?: boolean;
  /** Extra certificate authorities to trust (PEM), for a relay with a private CA. */
  ca?: string;
  timeouts?: Partial<SmtpTimeouts>;
}

interface Reply {
  code: number;
  text: string;
}

const CRLF_DOT = Buffer.from("\r\n.");
const END_OF_DATA = Buffer.from(".\r\n");
/** Certificate errors: the server is who it says only if we trust its CA. */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME|VERIFY/;

/**
 * One SMTP session (RFC 5321) that sends prepared messages as they are: the message
 * chunks go to the socket without copying, with dots stuffed by a native search.
 * Transactions are pipelined when the server offers PIPELINING. Every step has a
 * deadline; the password never crosses an unencrypted connection.
 */
export class SmtpClient {
  private socket: net.Socket;
  private buffer = "";
  private lines: string[] = [];
  private waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  /** Replies that arrived before anyone asked (pipelined replies often come in one packet). */
  private replies: Reply[] = [];
  private extensions = new Set<string>();
  private failure: SmtpError | undefined;
  private dataSent = false;
  private encrypted: boolean;
  private readonly timeouts: SmtpTimeouts;
  private readonly where: string;

  private constructor(socket: net.Socket, options: SmtpConnectOptions) {
    this.socket = socket;
    this.encrypted = options.secure;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.where = `${options.host}:${options.port}`;
    this.attach(socket);
  }

  /** Opens a session: greeting, EHLO, STARTTLS when offered, AUTH when credentials are given; all within one deadline. */
  static async connect(options: SmtpConnectOptions): Promise<SmtpClient> {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const where = `${options.host}:${options.port}`;
    const started = Date.now();
    const left = () => Math.max(1, timeouts.connectMs - (Date.now() - started));
    const socket = await openSocket(options, timeouts.connectMs);
    const client = new SmtpClient(socket, options);
    try {
      await client.expect(await client.read(left(), "the greeting"), 220, "greeting");
      await client.ehlo(left());
      if (!options.secure && client.extensions.has("STARTTLS")) {
        await client.expect(await client.command("STARTTLS", left()), 220, "STARTTLS");
        await client.upgrade(options, left());
        await client.ehlo(left());
      }
      if (options.auth) {
        if (!client.encrypted && !options.allowPlaintextAuth) {
          throw new SmtpError(
            `refusing to send the SMTP password to ${where} over an unencrypted connection (the server offers no STARTTLS, or something removed it): ` +
              "use smtps://, enable STARTTLS on the server, or set PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH=true for a trusted local relay",
            undefined,
            false,
            "insecure",
          );
        }
        await client.login(options.auth, left());
      }
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** True once the connection failed or was closed. */
  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends one message (CRLF line ends) to one recipient; resolves with the server's 250 reply. */
  async send(from: string, to: string, chunks: readonly Buffer[]): Promise<string> {
    this.dataSent = false;
    const envelope = [`MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, "DATA"];
    const t = this.timeouts.commandMs;
    let replies: Reply[];
    if (this.extensions.has("PIPELINING")) {
      this.write(`${envelope.join("\r\n")}\r\n`);
      replies = [await this.read(t, "MAIL FROM"), await this.read(t, "RCPT TO"), await this.read(t, "DATA")];
    } else {
      replies = [];
      for (const line of envelope) {
        const reply = await this.command(line, t);
        replies.push(reply);
        if (reply.code >= 400) break;
      }
    }
    const failed = replies.slice(0, 2).find((r) => r.code >= 400) ?? (replies[2] && replies[2].code !== 354 ? replies[2] : undefined);
    if (failed || replies.length < 3) {
      // The transaction is dead; RSET keeps the session usable for the next message.
      if (replies[2]?.code === 354) await this.abortData();
      else await this.command("RSET", t).catch(() => undefined);
      throw new SmtpError(failed?.text ?? "server refused the transaction", failed?.code, false);
    }
    await this.writeData(chunks);
    const reply = await this.read(this.timeouts.endOfDataMs, "the end of the message data");
    this.dataSent = false;
    if (reply.code !== 250) throw new SmtpError(reply.text, reply.code, true);
    return reply.text;
  }

  /** Says QUIT and closes. */
  quit(): void {
    if (this.closed) return;
    this.socket.end("QUIT\r\n");
    this.fail(new SmtpError("closed", undefined, false));
  }

  /** Closes at once. */
  close(): void {
    this.fail(new SmtpError("closed", undefined, false));
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => this.onData(data));
    socket.on("error", (err) => this.fail(new SmtpError(`${this.where}: ${err.message}`, undefined, this.dataSent)));
    socket.on("close", () => this.fail(new SmtpError(`${this.where}: connection closed by the server`, undefined, this.dataSent)));
  }

  private onData(data: string): void {
    this.buffer += data;
    let end: number;
    while ((end = this.buffer.indexOf("\n")) !== -1) {
      const line = this.buffer.slice(0, end).replace(/\r$/, "");
      this.buffer = this.buffer.slice(end + 1);
      this.lines.push(line);
      // "250-..." continues a reply, "250 ..." ends it.
      if (line.length < 4 || line[3] === " ") {
        const text = this.lines.join("\n");
        this.lines = [];
        const reply = { code: Number(text.slice(0, 3)) || 0, text };
        const waiter = this.waiting.shift();
        if (waiter) waiter.resolve(reply);
        else this.replies.push(reply);
      }
    }
  }

  private fail(err: SmtpError): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** The next reply, or a timeout error that ends the session after `timeoutMs`. */
  private read(timeoutMs: number, what: string): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new SmtpError(`${this.where}: no answer to ${what} within ${Math.round(timeoutMs / 1000)} s`, undefined, this.dataSent, "timeout"));
        this.socket.destroy();
      }, timeoutMs);
      this.waiting.push({
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  private write(text: string): void {
    this.socket.write(text, "latin1");
  }

  private command(line: string, timeoutMs: number): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read(timeoutMs, line.split(" ")[0]!);
  }

  private async expect(reply: Reply, code: number, step: string): Promise<void> {
    if (reply.code !== code) throw new SmtpError(`${this.where}: ${step}: ${reply.text}`, reply.code || undefined, false);
  }

  private async ehlo(timeoutMs: number): Promise<void> {
    const name = hostname().replace(/[^A-Za-z0-9.-]/g, "") || "localhost";
    let reply = await this.command(`EHLO ${name}`, timeoutMs);
    if (reply.code !== 250) reply = await this.command(`HELO ${name}`, timeoutMs);
    await this.expect(reply, 250, "EHLO");
    this.extensions = new Set(reply.text.split("\n").slice(1).map((l) => l.slice(4).toUpperCase()));
    for (const ext of [...this.extensions]) this.extensions.add(ext.split(" ")[0]!);
  }

  private async login(auth: { user: string; pass: string }, timeoutMs: number): Promise<void> {
    const methods = [...this.extensions].find((e) => e.startsWith("AUTH ")) ?? "";
    const check = async (reply: Reply, code: number) => {
      if (reply.code === code) return;
      throw new SmtpError(`${this.where} refused the SMTP login (check the user and password in PAPERMAIL_SMTP_URL): ${reply.text}`, reply.code || undefined, false, "auth");
    };
    if (methods.includes("PLAIN") || !methods.includes("LOGIN")) {
      const token = Buffer.from(`\0${auth.user}\0${auth.pass}`).toString("base64");
      return check(await this.command(`AUTH PLAIN ${token}`, timeoutMs), 235);
    }
    await check(await this.command("AUTH LOGIN", timeoutMs), 334);
    await check(await this.command(Buffer.from(auth.user).toString("base64"), timeoutMs), 334);
    await check(await this.command(Buffer.from(auth.pass).toString("base64"), timeoutMs), 235);
  }

  private upgrade(options: SmtpConnectOptions, timeoutMs: number): Promise<void> {
    // Anything the server sent before the handshake is not to be believed after it (STARTTLS injection).
    this.buffer = "";
    this.lines = [];
    this.replies = [];
    this.extensions.clear();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => secure.destroy(new Error(`TLS handshake did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.socket.removeAllListeners("data").removeAllListeners("close").removeAllListeners("error");
      const secure = tls.connect({ socket: this.socket, servername: serverName(options.host), ca: caList(options.ca) }, () => {
        clearTimeout(timer);
        this.encrypted = true;
        secure.off("error", onError);
        resolve();
      });
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(tlsError(err, options, "STARTTLS"));
      };
      secure.once("error", onError);
      this.socket = secure;
      this.attach(secure);
    });
  }

  /**
   * Writes the message with dots at line starts doubled (RFC 5321 4.5.2), then the
   * end marker; resolves once the marker is handed to the network. Only then may a
   * lost connection have delivered the message.
   */
  private writeData(chunks: readonly Buffer[]): Promise<void> {
    this.socket.cork();
    let lastTwo = "\r\n";
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      let from = 0;
      if (lastTwo.endsWith("\n") && chunk[0] === 0x2e) this.socket.write(".");
      for (let at = chunk.indexOf(CRLF_DOT); at !== -1; at = chunk.indexOf(CRLF_DOT, at + 3)) {
        this.socket.write(chunk.subarray(from, at + 2));
        this.socket.write(".");
        from = at + 2;
      }
      this.socket.write(from === 0 ? chunk : chunk.subarray(from));
      lastTwo = chunk.subarray(-2).toString("latin1");
    }
    if (!lastTwo.endsWith("\r\n")) this.socket.write("\r\n");
    const written = new Promise<void>((resolve, reject) => {
      this.socket.write(END_OF_DATA, (err) => {
        if (err || this.failure) return reject(this.failure ?? new SmtpError(`${this.where}: ${err!.message}`, undefined, false));
        this.dataSent = true;
        resolve();
      });
    });
    this.socket.uncork();
    return written;
  }

  /** After a 354 we cannot take back, end the data at once and reset. */
  private async abortData(): Promise<void> {
    this.write(".\r\n");
    await this.read(this.timeouts.commandMs, "an aborted DATA").catch(() => undefined);
    await this.command("RSET", this.timeouts.commandMs).catch(() => undefined);
  }
}

function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

function caList(ca: string | undefined): string[] | undefined {
  return ca ? [...tls.rootCertificates, ca] : undefined;
}

/** A TLS failure, said in terms of what to change. */
function tlsError(err: Error, options: SmtpConnectOptions, step: string): SmtpError {
  const where = `${options.host}:${options.port}`;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  let advice: string;
  if (CERT_ERRORS.test(code)) {
    advice = `the server's certificate is not trusted (${code}): if the relay uses a private CA, set PAPERMAIL_SMTP_CA_FILE to that CA's PEM file`;
  } else if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST/.test(code) || /wrong version number|packet length/i.test(err.message)) {
    advice = options.secure
      ? "the server does not speak TLS from the first byte: use smtp:// (STARTTLS, usually port 587 or 25) instead of smtps:// (port 465)"
      : "the server's STARTTLS failed the handshake";
  } else advice = err.message;
  return new SmtpError(`${step} with ${where} failed: ${advice}`, undefined, false, "tls");
}

function openSocket(options: SmtpConnectOptions, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const onError = (err: Error) => {
      clearTimeout(timer);
      if (options.secure && connected) return reject(tlsError(err, options, "TLS"));
      // A TLS alert before the TCP handshake's end cannot happen; anything here is the network.
      if (options.secure && (err as NodeJS.ErrnoException).code && !/^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!)) return reject(tlsError(err, options, "TLS"));
      reject(new SmtpError(`cannot connect to ${options.host}:${options.port}: ${err.message}`, undefined, false));
    };
    const socket = options.secure
      ? tls.connect({ host: options.host, port: options.port, servername: serverName(options.host), ca: caList(options.ca) }, () => done())
      : net.connect({ host: options.host, port: options.port }, () => done());
    socket.once("connect", () => (connected = true));
    const timer = setTimeout(() => socket.destroy(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    };
    socket.once("error", onError);
  });
}
