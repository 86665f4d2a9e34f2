import net from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { simpleParser, type ParsedMail } from "mailparser";

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/** What the server does with one message for a recipient, on its n-th attempt. */
export type Fault = "421" | "450" | "454" | "550" | "drop-after-data" | "drop-at-data" | "stall" | "slow" | "slow-rcpt" | undefined;

/** A real SMTP server on 127.0.0.1, port 0, that keeps what it receives and can misbehave on purpose. */
export async function startSmtpServer(
  options: { fault?: (to: string, attempt: number) => Fault; onMessage?: (m: ReceivedMessage) => void; smtp?: ConstructorParameters<typeof SMTPServer>[0] } = {},
) {
  const received: ReceivedMessage[] = [];
  const attempts = new Map<string, number>();
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: 10 * 1024 * 1024,
    ...options.smtp,
    onRcptTo(address, _session, callback) {
      const n = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, n);
      const fault = options.fault?.(address.address, n);
      if (fault === "550") return callback(Object.assign(new Error("5.1.1 No such user here"), { responseCode: 550 }));
      // A relay that takes its time to accept a recipient (a lookup): sessions wait before their data.
      if (fault === "slow-rcpt") return void setTimeout(() => callback(), 100 + Math.random() * 400);
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const first = session.envelope.rcptTo[0]!.address;
      if (options.fault?.(first, attempts.get(first) ?? 1) === "drop-at-data") {
        // The connection goes as the data begins: nothing of the message was taken.
        return connectionOf(session)?._socket.destroy();
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const fault = options.fault?.(to[0]!, attempts.get(to[0]!) ?? 1);
        if (fault === "421") return callback(Object.assign(new Error("4.3.2 Try again later"), { responseCode: 421 }));
        if (fault === "454") return callback(Object.assign(new Error("Throttling failure: Maximum sending rate exceeded."), { responseCode: 454 }));
        if (fault === "450") return callback(Object.assign(new Error("4.2.1 Mailbox busy, try later"), { responseCode: 450 }));
        // Takes the message and never answers the end of data.
        if (fault === "stall") return received.push({ from: "", to, raw: Buffer.concat(chunks) });
        const message = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to, raw: Buffer.concat(chunks) };
        received.push(message);
        options.onMessage?.(message);
        if (fault === "drop-after-data") {
          // The message arrived, but the client never hears the 250.
          return connectionOf(session)?._socket.destroy();
        }
        if (fault === "slow") setTimeout(() => callback(), 200);
        else callback();
      });
    },
  });
  function connectionOf(session: SMTPServerSession) {
    for (const conn of (server as unknown as { connections: Set<{ session: SMTPServerSession; _socket: { destroy(): void } }> }).connections) {
      if (conn.session.id === session.id) return conn;
    }
    return undefined;
  }
  // Clients killed on purpose reset their connections; that is expected here.
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    /** Messages per recipient. */
    countsByRecipient() {
      const counts = new Map<string, number>();
      for (const m of received) for (const to of m.to) counts.set(to, (counts.get(to) ?? 0) + 1);
      return counts;
    },
    parse(m: ReceivedMessage): Promise<ParsedMail> {
      return simpleParser(m.raw);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A bare SMTP server that accepts everything and records every line it gets, as
 * sent on the wire (smtp-server shows addresses decoded).
 */
export async function startRawSmtp() {
  const lines: string[] = [];
  const messages: string[] = [];
  const server = net.createServer((socket) => {
    let buffer = "";
    let data: string[] | undefined;
    socket.on("error", () => undefined);
    socket.write("220 raw ESMTP\r\n");
    socket.on("data", (d: Buffer) => {
      buffer += d.toString("latin1");
      for (let end = buffer.indexOf("\r\n"); end !== -1; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data) {
          if (line === ".") {
            messages.push(data.join("\r\n"));
            data = undefined;
            socket.write("250 queued\r\n");
          } else data.push(line);
          continue;
        }
        lines.push(line);
        if (line === "DATA") {
          data = [];
          socket.write("354 go\r\n");
        } else if (line === "QUIT") socket.end("221 bye\r\n");
        else socket.write(line.startsWith("EHLO") ? "250-raw\r\n250 8BITMIME\r\n" : "250 ok\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `smtp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    lines,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a scripted server does with a command or at a moment of the data: a reply, hang up, or say nothing. */
export type ScriptAction = string | "drop" | "stall";

/**
 * A bare SMTP server whose every answer a test decides: `command` sees each command
 * line (undefined = the usual reply), `afterData` decides the answer to the end of
 * the data, and `pauseAtData` stops reading once the data begins (the client's
 * writes back up) and hangs up after that many milliseconds.
 */
export async function startScriptedSmtp(script: {
  greeting?: ScriptAction;
  extensions?: string[];
  command?: (line: string) => ScriptAction | undefined;
  afterData?: ScriptAction;
  pauseAtData?: number;
}) {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  let messages = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffer = "";
    let inData = false;
    const act = (action: ScriptAction) => {
      if (action === "drop") socket.destroy();
      else if (action !== "stall") socket.write(`${action}\r\n`);
    };
    act(script.greeting ?? "220 scripted ESMTP");
    socket.on("data", (d: Buffer) => {
      buffer += d.toString("latin1");
      for (let end = buffer.indexOf("\r\n"); end !== -1 && !socket.destroyed; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            messages++;
            act(script.afterData ?? "250 2.0.0 queued");
          }
          continue;
        }
        lines.push(line);
        const chosen = script.command?.(line);
        if (chosen !== undefined) {
          act(chosen);
          continue;
        }
        const verb = line.split(" ")[0]!.toUpperCase();
        if (verb === "EHLO") {
          const ehlo = ["scripted", ...(script.extensions ?? [])];
          act(ehlo.map((l, i) => `250${i === ehlo.length - 1 ? " " : "-"}${l}`).join("\r\n"));
        }
        else if (verb === "DATA") {
          act("354 go ahead");
          inData = true;
          if (script.pauseAtData !== undefined) {
            socket.pause();
            setTimeout(() => socket.destroy(), script.pauseAtData);
            return;
          }
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else act("250 2.0.0 ok");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `smtp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    lines,
    get messages() {
      return messages;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The messages a test server received, parsed, by recipient. */
export async function inboxes(server: { received: ReceivedMessage[]; parse(m: ReceivedMessage): Promise<ParsedMail> }): Promise<Map<string, ParsedMail[]>> {
  const boxes = new Map<string, ParsedMail[]>();
  for (const m of server.received) {
    const parsed = await server.parse(m);
    for (const to of m.to) boxes.set(to, [...(boxes.get(to) ?? []), parsed]);
  }
  return boxes;
}
