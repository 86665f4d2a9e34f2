import net from "node:net";
import { describe, expect, it } from "vitest";
import { fetchBounces } from "../../src/bounces/imap.js";
import { loadConfig } from "../../src/config/load.js";
import { openDatabase } from "../../src/store/db.js";
import { dsn } from "../helpers/bounce-messages.js";
import { defer } from "../helpers/cleanup.js";
import { tempDir } from "../helpers/files.js";
import { listen } from "../helpers/listen.js";
import { startDovecot } from "../helpers/imap.js";
import { project } from "../helpers/project.js";
import { hasPackage } from "../helpers/system-packages.js";

/** An IMAP server that sends its greeting one byte at a time, slowly, forever. */
async function drippingServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    const text = "* OK IMAP4rev1 server ready, after a very long time indeed ".repeat(1000);
    let i = 0;
    const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(text[i++ % text.length]!)), 100);
    socket.on("close", () => clearInterval(timer));
  });
  const port = await listen(server);
  defer(() => sockets.forEach((s) => s.destroy()));
  return port;
}

describe("the bounce mailbox is read within bounds", () => {
  it("a server that drips its answers cannot hold the run past its deadline", async () => {
    const port = await drippingServer();
    const cwd = tempDir();
    const config = loadConfig({ PAPERMAIL_BOUNCE_MAILBOX: `imap://bounces:secret@127.0.0.1:${port}/INBOX` }, cwd);
    const db = openDatabase(config.dbPath);
    try {
      const run = await fetchBounces({ db, config, clock: { now: () => new Date() } }, undefined, { deadlineMs: 1500 });
      expect(run.outcomes).toEqual([]);
      expect(run.stopped).toMatch(/reached its deadline of 2 s/);
    } finally {
      db.close();
    }
  });

  it.skipIf(!hasPackage("dovecot-imapd"))("a message over PAPERMAIL_BOUNCE_MAX_MB is never downloaded: reported and left for a person", async () => {
    const imap = await startDovecot();
    const p = project();
    Object.assign(p.env, { PAPERMAIL_BOUNCE_MAILBOX: imap.url, PAPERMAIL_BOUNCE_CA_FILE: imap.caFile, PAPERMAIL_BOUNCE_MAX_MB: "1" });
    imap.deliver(dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "5.1.1", original: `Subject: big\r\n\r\n${"x".repeat(3 * 1024 * 1024)}` }));
    imap.deliver(dsn({ to: "bounces@example.org", recipient: "bob@example.org", status: "5.1.1" }));
    const first = JSON.parse((await p.cli(["bounces", "fetch", "--json"])).stdout) as { messages: Array<{ status: string; reason?: string }> };
    expect(first.messages).toHaveLength(2);
    expect(first.messages[0]).toMatchObject({ status: "unrecognised", reason: expect.stringMatching(/^3\.\d MB, more than PAPERMAIL_BOUNCE_MAX_MB \(1 MB\): not read/) });
    expect(first.messages[1]!.status).toBe("unverified");
    // Flagged: never fetched again.
    const second = JSON.parse((await p.cli(["bounces", "fetch", "--json"])).stdout) as { messages: unknown[] };
    expect(second.messages).toHaveLength(0);
  }, 60_000);

  it("a bounce file over PAPERMAIL_BOUNCE_MAX_MB is not read", async () => {
    const p = project();
    p.env.PAPERMAIL_BOUNCE_MAX_MB = "1";
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const file = join(p.cwd, "big.eml");
    writeFileSync(file, dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "5.1.1", original: `Subject: big\r\n\r\n${"x".repeat(2 * 1024 * 1024)}` }));
    const r = await p.cli(["bounces", "ingest", file, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).messages[0]).toMatchObject({ status: "unreadable", reason: expect.stringMatching(/more than PAPERMAIL_BOUNCE_MAX_MB \(1 MB\): not read/) });
  });
});
