import net from "node:net";
import { hostname } from "node:os";
import tls from "node:tls";
import { PapermailError } from "../errors.js";

/** A failed SMTP step: the server's reply code when there was one, and whether the whole message had gone out. */
export class SmtpError extends PapermailError {
  constructor(
    message: string,
    readonly responseCode: number | undefined,
    /** True once the terminating "." was written: the server may have accepted the message. */
    readonly dataSent: boolean,
  ) {
    super("SMTP", message, { responseCode, dataSent });
  }
}

export interface SmtpConnectOptions {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://); otherwise STARTTLS is used when offered. */
  secure: boolean;
  auth?: { user: string; pass: string };
  timeoutMs?: number;
}

interface Reply {
  code: number;
  text: string;
}

const CRLF_DOT = Buffer.from("\r\n.");
const END_OF_DATA = Buffer.from(".\r\n");

/**
 * One SMTP session (RFC 5321) that sends prepared messages as they are: the message
 * chunks go to the socket without copying, with dots stuffed by a native search.
 * Transactions are pipelined when the server offers PIPELINING.
 */
export class SmtpClient {
  private socket: net.Socket;
  private buffer = "";
  private lines: string[] = [];
  private waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  /** Replies that arrived before anyone asked (pipelined replies often come in one packet). */
  private replies: Reply[] = [];
  private extensions = new Set<string>();
  private failure: Error | undefined;
  private sendingData = false;
  private dataSent = false;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.attach(socket, timeoutMs);
  }

  /** Opens a session: greeting, EHLO, STARTTLS when offered, AUTH when credentials are given. */
  static async connect(options: SmtpConnectOptions): Promise<SmtpClient> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const socket = await openSocket(options, timeoutMs);
    const client = new SmtpClient(socket, timeoutMs);
    try {
      await client.expect(await client.read(), 220, "greeting");
      await client.ehlo();
      if (!options.secure && client.extensions.has("STARTTLS")) {
        await client.expect(await client.command("STARTTLS"), 220, "STARTTLS");
        await client.upgrade(options.host, timeoutMs);
        await client.ehlo();
      }
      if (options.auth) await client.login(options.auth);
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
    let replies: Reply[];
    if (this.extensions.has("PIPELINING")) {
      this.write(`${envelope.join("\r\n")}\r\n`);
      replies = [await this.read(), await this.read(), await this.read()];
    } else {
      replies = [];
      for (const line of envelope) {
        const reply = await this.command(line);
        replies.push(reply);
        if (reply.code >= 400) break;
      }
    }
    const failed = replies.slice(0, 2).find((r) => r.code >= 400) ?? (replies[2] && replies[2].code !== 354 ? replies[2] : undefined);
    if (failed || replies.length < 3) {
      // The transaction is dead; RSET keeps the session usable for the next message.
      if (replies[2]?.code === 354) await this.abortData();
      else await this.command("RSET").catch(() => undefined);
      throw new SmtpError(failed?.text ?? "server refused the transaction", failed?.code, false);
    }
    this.writeData(chunks);
    const reply = await this.read();
    this.dataSent = false;
    if (reply.code !== 250) throw new SmtpError(reply.text, reply.code, true);
    return reply.text;
  }

  /** Says QUIT and closes. */
  quit(): void {
    if (this.closed) return;
    this.socket.end("QUIT\r\n");
    this.fail(new Error("closed"));
  }

  /** Closes at once. */
  close(): void {
    this.fail(new Error("closed"));
    this.socket.destroy();
  }

  private attach(socket: net.Socket, timeoutMs: number): void {
    socket.setEncoding("latin1");
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from the server for ${timeoutMs / 1000} s`)));
    socket.on("data", (data: string) => this.onData(data));
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("connection closed by the server")));
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

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const dataSent = this.dataSent;
    for (const w of this.waiting.splice(0)) w.reject(new SmtpError(err.message, undefined, dataSent));
  }

  private read(): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(new SmtpError(this.failure.message, undefined, this.dataSent));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private write(text: string): void {
    this.socket.write(text, "latin1");
  }

  private command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  private async expect(reply: Reply, code: number, step: string): Promise<void> {
    if (reply.code !== code) throw new SmtpError(`${step}: ${reply.text}`, reply.code || undefined, false);
  }

  private async ehlo(): Promise<void> {
    const name = hostname().replace(/[^A-Za-z0-9.-]/g, "") || "localhost";
    let reply = await this.command(`EHLO ${name}`);
    if (reply.code !== 250) reply = await this.command(`HELO ${name}`);
    await this.expect(reply, 250, "EHLO");
    this.extensions = new Set(reply.text.split("\n").slice(1).map((l) => l.slice(4).toUpperCase()));
    for (const ext of [...this.extensions]) this.extensions.add(ext.split(" ")[0]!);
  }

  private async login(auth: { user: string; pass: string }): Promise<void> {
    const methods = [...this.extensions].find((e) => e.startsWith("AUTH ")) ?? "";
    if (methods.includes("PLAIN") || !methods.includes("LOGIN")) {
      const token = Buffer.from(`\0${auth.user}\0${auth.pass}`).toString("base64");
      return this.expect(await this.command(`AUTH PLAIN ${token}`), 235, "AUTH PLAIN");
    }
    await this.expect(await this.command("AUTH LOGIN"), 334, "AUTH LOGIN");
    await this.expect(await this.command(Buffer.from(auth.user).toString("base64")), 334, "AUTH LOGIN");
    await this.expect(await this.command(Buffer.from(auth.pass).toString("base64")), 235, "AUTH LOGIN");
  }

  private upgrade(host: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.removeAllListeners("data").removeAllListeners("close").removeAllListeners("error");
      const secure = tls.connect({ socket: this.socket, servername: net.isIP(host) ? undefined : host }, () => resolve());
      secure.once("error", reject);
      this.socket = secure;
      this.attach(secure, timeoutMs);
    });
  }

  /** Writes the message with dots at line starts doubled (RFC 5321 4.5.2), then the end marker. */
  private writeData(chunks: readonly Buffer[]): void {
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
    this.dataSent = true;
    this.socket.write(END_OF_DATA);
    this.socket.uncork();
  }

  /** After a 354 we cannot take back, end the data at once and reset. */
  private async abortData(): Promise<void> {
    this.write(".\r\n");
    await this.read().catch(() => undefined);
    await this.command("RSET").catch(() => undefined);
  }
}

function openSocket(options: SmtpConnectOptions, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(new SmtpError(`cannot connect to ${options.host}:${options.port}: ${err.message}`, undefined, false));
    };
    const socket = options.secure
      ? tls.connect({ host: options.host, port: options.port, servername: net.isIP(options.host) ? undefined : options.host }, () => done())
      : net.connect({ host: options.host, port: options.port }, () => done());
    const timer = setTimeout(() => socket.destroy(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    };
    socket.once("error", onError);
  });
}
