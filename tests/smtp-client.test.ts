import net from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { createSmtpMailer } from "../src/deliver/smtp-mailer.js";
import { SAMPLE_FILES } from "./helpers.js";
import { addressList, ledger, project, servers, smtp } from "./project.js";
import { makeCertificates } from "./tls.js";
import { startRawSmtp } from "./smtp.js";
import { simpleParser } from "mailparser";

const certs = makeCertificates();

/** A server that wants a login; `starttls` offers STARTTLS with the test CA's certificate. */
async function loginServer(options: { starttls: boolean; secure?: boolean; password?: string }) {
  const logins: Array<{ user: string; secure: boolean }> = [];
  const server = await smtp({
    smtp: {
      disabledCommands: options.starttls || options.secure ? [] : ["STARTTLS"],
      secure: options.secure ?? false,
      key: certs.key,
      cert: certs.cert,
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, session, callback) {
        logins.push({ user: auth.username ?? "", secure: Boolean(session.secure) });
        if (auth.password !== (options.password ?? "secret")) return callback(new Error("5.7.8 Authentication credentials invalid"));
        callback(null, { user: auth.username });
      },
    },
  });
  return { ...server, logins, port: Number(new URL(server.url).port) };
}

async function ready(url: string, extra: Record<string, string> = {}) {
  const p = project(url);
  Object.assign(p.env, extra);
  await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(3));
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  return p;
}

describe("the SMTP client never leaks a secret", () => {
  it("refuses to send AUTH over a connection without STARTTLS, naming the server; a setting allows it for a local relay", async () => {
    const server = await loginServer({ starttls: false });
    const p = await ready(`smtp://ada:secret@127.0.0.1:${server.port}`);
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing to send the SMTP password to 127.0.0.1:${server.port} over an unencrypted connection`);
    expect(server.logins).toEqual([]);
    expect(ledger(p.db()).every((row) => row.status === "queued")).toBe(true);

    p.env.PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH = "true";
    const allowed = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(allowed.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(server.logins[0]).toEqual({ user: "ada", secure: false });
  });

  it("logs in after STARTTLS with a private CA trusted by PAPERMAIL_SMTP_CA_FILE, and says what to set without it", async () => {
    const server = await loginServer({ starttls: true });
    const p = await ready(`smtp://ada:secret@127.0.0.1:${server.port}`);
    const untrusted = await p.cli(["send-digest"]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(/certificate is not trusted .*PAPERMAIL_SMTP_CA_FILE/);
    p.env.PAPERMAIL_SMTP_CA_FILE = certs.caFile;
    const trusted = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(trusted.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(server.logins.length).toBeGreaterThan(0);
    for (const login of server.logins) expect(login).toEqual({ user: "ada", secure: true });
  });

  it("reports a refused login (535) as a configuration error, exit 2, with everyone still queued", async () => {
    const server = await loginServer({ starttls: true, password: "other" });
    const p = await ready(`smtp://ada:wrong@127.0.0.1:${server.port}`, { PAPERMAIL_SMTP_CA_FILE: certs.caFile });
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused the SMTP login \(check the user and password in PAPERMAIL_SMTP_URL\): 535/);
    expect(r.stderr).not.toMatch(/unreachable/);
    expect(ledger(p.db()).map((row) => row.status)).toEqual(["queued", "queued", "queued"]);
  });

  it("tells someone who points smtps:// at a STARTTLS port to use smtp://", async () => {
    const server = await loginServer({ starttls: true });
    const p = await ready(`smtps://ada:secret@127.0.0.1:${server.port}`, { PAPERMAIL_SMTP_CA_FILE: certs.caFile });
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not speak TLS from the first byte: use smtp:\/\//);
  });

  it("discards anything the server sent before the TLS handshake", async () => {
    const seen: string[] = [];
    const raw = net.createServer((plain) => {
      let socket: net.Socket = plain;
      const reply = (text: string) => socket.write(text);
      let inData = false;
      const onLine = (line: string) => {
        if (inData) {
          if (line === ".") {
            inData = false;
            reply("250 2.0.0 queued as GENUINE\r\n");
          }
          return;
        }
        seen.push(line.split(" ")[0]!);
        if (line.startsWith("EHLO")) reply(socket instanceof tls.TLSSocket ? "250-raw\r\n250 PIPELINING\r\n" : "250-raw\r\n250 STARTTLS\r\n");
        else if (line === "STARTTLS") {
          // A man in the middle's extra lines ride along with the 220.
          plain.write("220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n250 2.0.0 queued as FAKE\r\n");
          plain.removeAllListeners("data");
          socket = new tls.TLSSocket(plain, { isServer: true, key: certs.key, cert: certs.cert });
          listen(socket);
        } else if (line === "DATA") {
          inData = true;
          reply("354 go\r\n");
        } else reply("250 ok\r\n");
      };
      const listen = (s: net.Socket) => {
        let buffer = "";
        s.on("data", (d: Buffer) => {
          buffer += d.toString("latin1");
          for (let end = buffer.indexOf("\r\n"); end !== -1; end = buffer.indexOf("\r\n")) {
            onLine(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
        s.on("error", () => undefined);
      };
      reply("220 raw ESMTP\r\n");
      listen(plain);
    });
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
    servers.push({ close: () => new Promise<void>((r) => raw.close(() => r())) });
    const port = (raw.address() as net.AddressInfo).port;
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, poolSize: 1, ca: (await import("node:fs")).readFileSync(certs.caFile, "utf8") });
    const outcome = await mailer.send({ from: "a@example.org", to: "b@example.org", raw: [Buffer.from("Subject: x\r\n\r\nhello\r\n")], name: "x" });
    await mailer.close();
    expect(outcome).toEqual({ status: "sent", response: "250 2.0.0 queued as GENUINE" });
    expect(seen).toEqual(["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA"]);
  });

  it("gives up a connection whose greeting trickles in past the deadline", async () => {
    const trickle = net.createServer((s) => {
      const timer = setInterval(() => s.write("2"), 50);
      s.on("close", () => clearInterval(timer));
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => trickle.listen(0, "127.0.0.1", r));
    servers.push({ close: () => new Promise<void>((r) => (trickle.close(() => r()), undefined)) });
    const port = (trickle.address() as net.AddressInfo).port;
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, poolSize: 1, timeouts: { connectMs: 400 } });
    const started = Date.now();
    const outcome = await mailer.send({ from: "a@example.org", to: "b@example.org", raw: [Buffer.from("x\r\n")], name: "x" });
    await mailer.close();
    expect(outcome).toMatchObject({ status: "retry", cause: "unreachable" });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("From addresses", () => {
  it("sends a non-ASCII From domain as punycode and quotes a display name with quotes and backslashes", async () => {
    const server = await startRawSmtp();
    servers.push(server);
    const p = await ready(server.url, { PAPERMAIL_FROM: '"Papers \\"Daily\\" \\\\ Digest" <digest@bücher.example>' });
    const r = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(r.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(server.lines.filter((l) => l.startsWith("MAIL FROM"))[0]).toBe("MAIL FROM:<digest@xn--bcher-kva.example>");
    expect(server.messages[0]).toMatch(/^From: "Papers \\"Daily\\" \\\\ Digest" <digest@xn--bcher-kva\.example>$/m);
    const parsed = await simpleParser(server.messages[0]!.replace(/^\.\./gm, "."));
    expect(parsed.from!.value[0]!.name).toBe('Papers "Daily" \\ Digest');
  });
});
