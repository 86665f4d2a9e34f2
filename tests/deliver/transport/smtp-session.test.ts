import net from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { createSmtpMailer } from "../../../src/deliver/transport/smtp-mailer.js";
import { SAMPLE_FILES } from "../../helpers/files.js";
import { defer } from "../../helpers/cleanup.js";
import { waitFor } from "../../helpers/wait.js";
import { listen as listenOn } from "../../helpers/listen.js";
import { addressList, ledger, project, smtp } from "../../helpers/project.js";
import { makeCertificates } from "../../helpers/tls.js";
import { hasPackage } from "../../helpers/system-packages.js";
import { startRawSmtp, startScriptedSmtp, type ScriptAction } from "../../helpers/smtp-server.js";
import { simpleParser } from "mailparser";

// TLS needs certificates from openssl: without it, the tests that log in skip (tests/system-packages.ts).
const certs = hasPackage("openssl") ? makeCertificates() : undefined;

/** A server that wants a login; `starttls` offers STARTTLS with the test CA's certificate. */
async function loginServer(options: { starttls: boolean; secure?: boolean; password?: string }) {
  const logins: Array<{ user: string; secure: boolean }> = [];
  const server = await smtp({
    smtp: {
      disabledCommands: options.starttls || options.secure ? [] : ["STARTTLS"],
      secure: options.secure ?? false,
      key: certs!.key,
      cert: certs!.cert,
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

describe.skipIf(!certs)("the SMTP sessions (nodemailer) never leak a secret", () => {
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
    p.env.PAPERMAIL_SMTP_CA_FILE = certs!.caFile;
    const trusted = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(trusted.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(server.logins.length).toBeGreaterThan(0);
    for (const login of server.logins) expect(login).toEqual({ user: "ada", secure: true });
  });

  it("reports a refused login (535) as a configuration error, exit 2, with everyone still queued", async () => {
    const server = await loginServer({ starttls: true, password: "other" });
    const p = await ready(`smtp://ada:wrong@127.0.0.1:${server.port}`, { PAPERMAIL_SMTP_CA_FILE: certs!.caFile });
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused the SMTP login \(check the user and password in PAPERMAIL_SMTP_URL\): 535/);
    expect(r.stderr).not.toMatch(/unreachable/);
    expect(ledger(p.db()).map((row) => row.status)).toEqual(["queued", "queued", "queued"]);
  });

  it("tells someone who points smtps:// at a STARTTLS port to use smtp://", async () => {
    const server = await loginServer({ starttls: true });
    const p = await ready(`smtps://ada:secret@127.0.0.1:${server.port}`, { PAPERMAIL_SMTP_CA_FILE: certs!.caFile });
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
          socket = new tls.TLSSocket(plain, { isServer: true, key: certs!.key, cert: certs!.cert });
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
    const port = await listenOn(raw);
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, poolSize: 1, ca: (await import("node:fs")).readFileSync(certs!.caFile, "utf8") });
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
    const port = await listenOn(trickle);
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, poolSize: 1, timeouts: { connectMs: 400 } });
    // The greeting never ends: only the deadline can end the wait.
    const outcome = await mailer.send({ from: "a@example.org", to: "b@example.org", raw: [Buffer.from("x\r\n")], name: "x" });
    await mailer.close();
    expect(outcome).toMatchObject({ status: "retry", cause: "unreachable" });
  });
});

describe("From addresses", () => {
  it("sends a non-ASCII From domain as punycode and quotes a display name with quotes and backslashes", async () => {
    const server = await startRawSmtp();
    defer(() => server.close());
    const p = await ready(server.url, { PAPERMAIL_FROM: '"Papers \\"Daily\\" \\\\ Digest" <digest@bücher.example>' });
    const r = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(r.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(server.lines.filter((l) => l.startsWith("MAIL FROM"))[0]).toBe("MAIL FROM:<digest@xn--bcher-kva.example>");
    expect(server.messages[0]).toMatch(/^From: "Papers \\"Daily\\" \\\\ Digest" <digest@xn--bcher-kva\.example>$/m);
    const parsed = await simpleParser(server.messages[0]!.replace(/^\.\./gm, "."));
    expect(parsed.from!.value[0]!.name).toBe('Papers "Daily" \\ Digest');
  });
});

/** One message through a pool of one session to `url`, with short deadlines. */
async function sendOne(url: string, raw: Buffer[] = [Buffer.from("Subject: x\r\n\r\nhello\r\n")], to = "b@example.org") {
  const mailer = createSmtpMailer({ url, poolSize: 1, timeouts: { connectMs: 1000, commandMs: 500, endOfDataMs: 500 } });
  try {
    return await mailer.send({ from: "a@example.org", to, raw, name: "x" });
  } finally {
    await mailer.close();
  }
}

async function scripted(script: Parameters<typeof startScriptedSmtp>[0]) {
  const server = await startScriptedSmtp(script);
  defer(() => server.close());
  return server;
}

describe("how far a message got decides between retry and unknown", () => {
  const on = (verb: string, action: ScriptAction) => (line: string) => (line.startsWith(verb) ? action : undefined);
  const cases: Array<[string, Parameters<typeof startScriptedSmtp>[0], object]> = [
    ["hangs up before the greeting", { greeting: "drop" }, { status: "retry", cause: "unreachable" }],
    ["hangs up at MAIL FROM", { command: on("MAIL", "drop") }, { status: "retry", cause: "connection" }],
    ["hangs up at RCPT TO", { command: on("RCPT", "drop") }, { status: "retry", cause: "connection" }],
    ["hangs up at DATA, before its 354", { command: on("DATA", "drop") }, { status: "retry", cause: "connection" }],
    ["says nothing to MAIL FROM", { command: on("MAIL", "stall") }, { status: "retry", cause: "connection" }],
    ["hangs up after the end of the data, before its reply", { afterData: "drop" }, { status: "unknown" }],
    ["says nothing after the end of the data", { afterData: "stall" }, { status: "unknown", stalled: true }],
  ];
  for (const [what, script, outcome] of cases) {
    it(`a server that ${what}: ${JSON.stringify(outcome)}`, async () => {
      const server = await scripted(script);
      expect(await sendOne(server.url)).toMatchObject(outcome);
    });
  }

  it("a server that hangs up while the message data is still being written: retry, it cannot have the message", async () => {
    // 16 MB that a server no longer reading cannot take in: the final "." never leaves.
    const server = await scripted({ pauseAtData: 300 });
    const big = [Buffer.from("Subject: big\r\n\r\n"), Buffer.alloc(16 * 1024 * 1024, "abcdefghij\r\n")];
    expect(await sendOne(server.url, big)).toMatchObject({ status: "retry", cause: "connection" });
  });

  const refusals: Array<[string, Parameters<typeof startScriptedSmtp>[0], object]> = [
    ["MAIL FROM", { command: on("MAIL", "550 5.7.1 Sender address rejected") }, { status: "failed", code: 550, stage: "mail" }],
    ["RCPT TO", { command: on("RCPT", "550 5.1.1 No such user") }, { status: "failed", code: 550, stage: "rcpt" }],
    ["DATA", { command: on("DATA", "554 5.5.1 No valid recipients") }, { status: "failed", code: 554, stage: "data" }],
    ["the end of the data", { afterData: "554 5.7.1 Message content rejected" }, { status: "failed", code: 554, stage: "end-of-data" }],
    ["RCPT TO, for now", { command: on("RCPT", "451 4.3.0 Try again later") }, { status: "retry", code: 451, cause: "throttled" }],
    ["RCPT TO, mailbox busy", { command: on("RCPT", "450 4.2.1 Mailbox busy") }, { status: "retry", code: 450, cause: "temporary" }],
  ];
  for (const pipelining of [false, true]) {
    for (const [step, script, outcome] of refusals) {
      it(`a refusal at ${step} is reported with its code and step${pipelining ? " (pipelined)" : ""}`, async () => {
        const server = await scripted({ ...script, extensions: pipelining ? ["PIPELINING"] : [] });
        expect(await sendOne(server.url)).toMatchObject(outcome);
      });
    }
  }

  it("keeps the session after a refused recipient (RSET) and sends the next message on it", async () => {
    const server = await scripted({ command: (line) => (line.startsWith("RCPT TO:<gone@") ? "550 5.1.1 No such user" : undefined), extensions: ["PIPELINING"] });
    const mailer = createSmtpMailer({ url: server.url, poolSize: 1 });
    const raw = [Buffer.from("Subject: x\r\n\r\nhello\r\n")];
    expect(await mailer.send({ from: "a@example.org", to: "gone@example.org", raw, name: "x" })).toMatchObject({ status: "failed", stage: "rcpt" });
    expect(await mailer.send({ from: "a@example.org", to: "here@example.org", raw, name: "y" })).toMatchObject({ status: "sent" });
    await mailer.close();
    expect(server.lines.filter((l) => l.startsWith("EHLO"))).toHaveLength(1);
    expect(server.lines).toContain("RSET");
  });
});

describe("a hostile server", () => {
  /** A server that answers EHLO (or MAIL FROM) with "250-" lines that never end, as fast as the client reads them. */
  async function endless(at: "EHLO" | "MAIL", line: string) {
    let written = 0;
    let closed = false;
    const raw = net.createServer((socket) => {
      socket.on("error", () => undefined);
      socket.on("close", () => (closed = true));
      socket.write("220 hostile ESMTP\r\n");
      let started = false;
      socket.on("data", (d: Buffer) => {
        const text = d.toString("latin1");
        if (!started && text.startsWith(at)) {
          started = true;
          const chunk = Buffer.from(line.repeat(1000));
          const pump = () => {
            while (!socket.destroyed && written < 512 * 1024 * 1024) {
              written += chunk.length;
              if (!socket.write(chunk)) return void socket.once("drain", pump);
            }
          };
          pump();
        } else if (!started) socket.write(text.startsWith("EHLO") ? "250 hostile\r\n" : "250 ok\r\n");
      });
    });
    const port = await listenOn(raw);
    return { url: `smtp://127.0.0.1:${port}`, written: () => written, closed: () => closed };
  }

  for (const [at, line] of [["EHLO", "250-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"], ["MAIL", "250-more and more\r\n"], ["EHLO", "250-no line end ever "]] as const) {
    it(`cuts off a reply to ${at} that never ends (${JSON.stringify(line.slice(0, 12))}...) without growing memory`, async () => {
      const hostile = await endless(at, line);
      globalThis.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const outcome = await sendOne(hostile.url);
      expect(outcome).toMatchObject({ status: "retry" });
      expect((outcome as { error: string }).error).toMatch(/exceeds maximum allowed size/);
      // The client hung up long before the server ran out of lines to send.
      await waitFor(hostile.closed, "the client to hang up");
      expect(hostile.written()).toBeLessThan(64 * 1024 * 1024);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    });
  }
});

describe.skipIf(!certs)("OAuth2 logins (XOAUTH2) and international addresses", () => {
  /** A relay that takes only XOAUTH2 after STARTTLS, and accepts `token`. */
  async function oauthRelay(token: string) {
    const logins: Array<{ method: string; user: string; token: string }> = [];
    const server = await smtp({
      smtp: {
        disabledCommands: [],
        key: certs!.key,
        cert: certs!.cert,
        authOptional: false,
        authMethods: ["XOAUTH2"],
        onAuth(auth, _session, callback) {
          logins.push({ method: auth.method, user: auth.username ?? "", token: auth.accessToken ?? "" });
          if (auth.accessToken !== token) return callback(null, { data: { status: "401", schemes: "bearer" } });
          callback(null, { user: auth.username });
        },
      },
    });
    return { ...server, logins, port: Number(new URL(server.url).port) };
  }

  /** An OAuth2 token endpoint on 127.0.0.1 that records what it is asked. */
  async function tokenEndpoint(answer: { status: number; body: object }) {
    const requests: URLSearchParams[] = [];
    const http = await import("node:http");
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c));
      req.on("end", () => {
        requests.push(new URLSearchParams(body));
        res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
      });
    });
    const port = await listenOn(server);
    return { url: `http://127.0.0.1:${port}/token`, requests };
  }

  it("logs in with an access token from a refresh token, asked once for the whole pool", async () => {
    const relay = await oauthRelay("ya29.fresh");
    const endpoint = await tokenEndpoint({ status: 200, body: { access_token: "ya29.fresh", expires_in: 3599, token_type: "Bearer" } });
    const p = await ready(`smtp://ada%40example.org@127.0.0.1:${relay.port}`, {
      PAPERMAIL_SMTP_CA_FILE: certs!.caFile,
      PAPERMAIL_SMTP_OAUTH2_CLIENT_ID: "client-1",
      PAPERMAIL_SMTP_OAUTH2_CLIENT_SECRET: "shh",
      PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN: "1//refresh",
      PAPERMAIL_SMTP_OAUTH2_TOKEN_URL: endpoint.url,
      PAPERMAIL_SMTP_OAUTH2_SCOPE: "https://mail.google.com/",
    });
    const r = await p.cli(["send-digest", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(relay.logins[0]).toEqual({ method: "XOAUTH2", user: "ada@example.org", token: "ya29.fresh" });
    expect(endpoint.requests).toHaveLength(1);
    expect(Object.fromEntries(endpoint.requests[0]!)).toEqual({
      grant_type: "refresh_token",
      refresh_token: "1//refresh",
      client_id: "client-1",
      client_secret: "shh",
      scope: "https://mail.google.com/",
    });
  });

  it("logs in with the token a command prints, and says what the token endpoint objected to", async () => {
    const relay = await oauthRelay("from-command");
    const p = await ready(`smtp://ada%40example.org@127.0.0.1:${relay.port}`, {
      PAPERMAIL_SMTP_CA_FILE: certs!.caFile,
      PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND: "printf 'from-command\\n'",
    });
    const r = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(r.stdout).digests[0]).toMatchObject({ sent: 3 });
    expect(relay.logins[0]).toMatchObject({ method: "XOAUTH2", token: "from-command" });

    const refused = await tokenEndpoint({ status: 400, body: { error: "invalid_grant", error_description: "Token has been expired or revoked." } });
    const q = await ready(`smtp://ada%40example.org@127.0.0.1:${relay.port}`, {
      PAPERMAIL_SMTP_CA_FILE: certs!.caFile,
      PAPERMAIL_SMTP_OAUTH2_CLIENT_ID: "client-1",
      PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN: "1//revoked",
      PAPERMAIL_SMTP_OAUTH2_TOKEN_URL: refused.url,
    });
    const failed = await q.cli(["send-digest"]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/invalid_grant: Token has been expired or revoked/);
    expect(ledger(q.db()).every((row) => row.status === "queued")).toBe(true);
  });

  it("refuses OAuth2 settings that cannot work, naming the variable", async () => {
    const p = project("smtp://ada:secret@127.0.0.1:25");
    p.env.PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND = "echo x";
    const r = await p.cli(["status"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PAPERMAIL_SMTP_URL: with OAuth2 the URL carries no password/);
    const q = project("smtp://ada@127.0.0.1:25");
    q.env.PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN = "x";
    expect((await q.cli(["status"])).stderr).toMatch(/PAPERMAIL_SMTP_OAUTH2_CLIENT_ID: must be set with PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN/);
  });

  it("sends to an address with non-ASCII letters with SMTPUTF8, and fails only that reader's message on a relay without it", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "import", "-", "--confirmed"], "jörg@example.org\nada@example.org\n");
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const r = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(r.stdout).digests[0]).toMatchObject({ sent: 2 });
    const parsed = await server.parse(server.received.find((m) => m.to[0] === "jörg@example.org")!);
    expect(parsed.to).toMatchObject({ value: [{ address: "jörg@example.org" }] });

    const plain = await smtp({ smtp: { hideSMTPUTF8: true } });
    const q = project(plain.url);
    await q.cli(["subscribers", "import", "-", "--confirmed"], "jörg@example.org\nada@example.org\n");
    await q.cli(["ingest", SAMPLE_FILES[0]!]);
    const s = await q.cli(["send-digest", "--json"]);
    expect(s.code).toBe(1);
    expect(JSON.parse(s.stdout).digests[0]).toMatchObject({ sent: 1, failed: 1 });
    const rows = ledger(q.db());
    expect(rows.find((row) => row.email === "jörg@example.org")!.error).toMatch(/does not offer SMTPUTF8, which the address jörg@example.org needs/);
    // The relay's shortcoming is not the reader's: they stay subscribed.
    const list = JSON.parse((await q.cli(["subscribers", "list", "--json"])).stdout) as Array<{ email: string; status: string }>;
    expect(list.find((x) => x.email === "jörg@example.org")!.status).toBe("active");
  });
});
