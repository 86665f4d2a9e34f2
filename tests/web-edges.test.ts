import Database from "better-sqlite3";
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publishDigests } from "../src/digest/publish.js";
import { ingestFile } from "../src/ingest/ingest-file.js";
import { findSubscriberByEmail } from "../src/store/subscribers.js";
import { runCli, tempDir } from "./helpers.js";
import { ABSTRACT, HEADER, project, smtp } from "./project.js";
import { startSite } from "./site.js";

function confirmLink(text: string): string {
  return /https?:\/\/[^\s"<>]+\/confirm\/[A-Za-z0-9_-]+/.exec(text)![0];
}

describe("confirmation mail", () => {
  it("counts a confirmation only once the mail server took it: a failed one is sent again on the next request", async () => {
    const site = await startSite({ fault: (to, n) => (to === "ada@example.org" && n === 1 ? "550" : undefined) });
    await site.post("/subscribe", { email: "ada@example.org" });
    for (let i = 0; i < 200 && !site.logs.some((l) => l.includes("not sent")); i++) await new Promise((r) => setTimeout(r, 20));
    expect(site.smtp.received).toHaveLength(0);
    expect(site.logs.join("\n")).toMatch(/confirmation email not sent/);
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(1)).toBe(1);
    // Now one did go out: the 24-hour limit holds.
    await site.post("/subscribe", { email: "ada@example.org" });
    await new Promise((r) => setTimeout(r, 300));
    expect(site.smtp.received).toHaveLength(1);
  });

  it("subscribers add exits 1 when the confirmation could not be sent, and a second try sends it", async () => {
    const server = await smtp({ fault: (to, n) => (n === 1 ? "550" : undefined) });
    const p = project(server.url);
    const failed = await p.cli(["subscribers", "add", "ada@example.org"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/confirmation email was not sent/);
    const retried = await p.cli(["subscribers", "add", "ada@example.org"]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/confirmation sent/);
    expect(server.received).toHaveLength(1);
  });

  it("sends someone who unsubscribed and comes back a confirmation that works", async () => {
    const site = await startSite();
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(1);
    const first = confirmLink((await site.smtp.parse(site.smtp.received[0]!)).text!);
    await site.post(new URL(first).pathname, "");
    const sub = findSubscriberByEmail(site.ctx.db, "ada@example.org")!;
    const { applyConsentEvent } = await import("../src/store/consent.js");
    applyConsentEvent(site.ctx.db, { id: sub.id }, { type: "unsubscribe" }, new Date().toISOString());
    // Back the next day.
    site.ctx.db.prepare("UPDATE confirmation_sends SET sent_at = ? WHERE subscriber_id = ?").run(new Date(Date.now() - 25 * 3600_000).toISOString(), sub.id);
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(2);
    const second = confirmLink((await site.smtp.parse(site.smtp.received[1]!)).text!);
    expect((await site.post(new URL(second).pathname, "")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")!.status).toBe("active");
  });

  it("answers a confirmation link used a second time with 'already subscribed'", async () => {
    const site = await startSite();
    await site.post("/subscribe", { email: "ada@example.org" });
    await site.mailCount(1);
    const link = new URL(confirmLink((await site.smtp.parse(site.smtp.received[0]!)).text!)).pathname;
    expect((await site.post(link, "")).status).toBe(200);
    for (const again of [await site.post(link, ""), await fetch(site.base + link)]) {
      expect(again.status).toBe(200);
      expect(await again.text()).toContain("You are already subscribed");
    }
  });

  it("prints the confirmation link when mail goes to the outbox, from serve's log and from subscribers add", async () => {
    const site = await startSite({ env: { PAPERMAIL_SMTP_URL: "" } });
    await site.post("/subscribe", { email: "ada@example.org" });
    for (let i = 0; i < 100 && !site.logs.some((l) => l.includes("confirmation link")); i++) await new Promise((r) => setTimeout(r, 20));
    expect(site.logs.join("\n")).toMatch(/confirmation link \(outbox\): http:\/\/127\.0\.0\.1:\d+\/confirm\/[A-Za-z0-9_-]{24}/);
    const p = project();
    const added = await p.cli(["subscribers", "add", "bob@example.org"]);
    expect(added.stdout).toMatch(/confirmation link \(outbox\): https:\/\/papers\.example\.org\/confirm\/[A-Za-z0-9_-]{24}/);
  });
});

describe("unsubscribe links", () => {
  it("accept a signed token without any ledger lookup, refuse a forged one, and keep older random tokens working", async () => {
    const site = await startSite();
    const { addConfirmedReader: addSubscriber } = await import("../src/subscribers/manage.js");
    const { resolveSecret } = await import("../src/store/settings.js");
    const { hashToken, unsubscribeToken } = await import("../src/util/tokens.js");
    addSubscriber(site.ctx.db, "ada@example.org", new Date().toISOString());
    addSubscriber(site.ctx.db, "old@example.org", new Date().toISOString());
    const secret = resolveSecret(site.ctx.db, site.ctx.config.secret);
    const token = unsubscribeToken(secret, 7, 1);
    const forged = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect((await site.post(`/unsubscribe/${forged}`, "List-Unsubscribe=One-Click")).status).toBe(404);
    expect((await site.post(`/unsubscribe/${token}`, "List-Unsubscribe=One-Click")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "ada@example.org")!.status).toBe("unsubscribed");
    // A link in mail sent by an older version: a random token whose hash the ledger keeps.
    const { freezeEdition } = await import("../src/digest/editions.js");
    await ingestFile(site.ctx, (await import("./helpers.js")).SAMPLE_FILES[0]!);
    const id = freezeEdition(site.ctx.db, { edition: "daily", maxPapers: 5, at: new Date().toISOString(), subject: () => "t", includeDemo: true })!;
    const random = "AbCdEfGhIjKlMnOpQrStUvWx";
    site.ctx.db.prepare("UPDATE deliveries SET unsubscribe_token_hash = ? WHERE digest_id = ? AND subscriber_id = 2").run(hashToken(secret, random), id);
    expect((await fetch(`${site.base}/unsubscribe/${random}`)).status).toBe(200);
    expect((await site.post(`/unsubscribe/${random}`, "")).status).toBe(200);
    expect(findSubscriberByEmail(site.ctx.db, "old@example.org")!.status).toBe("unsubscribed");
  });
});

describe("the site under faults", () => {
  it("keeps answering while another process holds the write lock, and a write that cannot wait answers 503", async () => {
    const site = await startSite();
    const blocker = new Database(site.ctx.config.dbPath);
    blocker.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const home = await fetch(site.base + "/");
      expect(home.status).toBe(200);
      const post = await site.post("/subscribe", { email: "ada@example.org" });
      expect(post.status).toBe(503);
      expect(post.headers.get("retry-after")).toBe("5");
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    expect((await site.post("/subscribe", { email: "ada@example.org" })).status).toBe(200);
  });

  it("answers 400 to a request line it cannot parse", async () => {
    const site = await startSite();
    const ask = (request: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(site.port, "127.0.0.1", () => socket.write(request));
        let answer = "";
        socket.on("data", (d) => (answer += d));
        socket.on("close", () => resolve(answer));
        socket.on("error", () => resolve(answer));
        setTimeout(() => socket.destroy(), 1000);
      });
    expect(await ask("GET //x:99999/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
    expect(await ask("GARBAGE\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
  });

  it("reports a database that cannot be read on /healthz", async () => {
    const site = await startSite();
    expect((await fetch(site.base + "/healthz")).status).toBe(200);
    site.ctx.db.close();
    const down = await fetch(site.base + "/healthz");
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, error: expect.stringMatching(/database cannot be read/) });
  });

  it("shows every paper of a digest on its web page, and the email's 'And N more' links there", async () => {
    const site = await startSite();
    const { addConfirmedReader } = await import("../src/subscribers/manage.js");
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    const long = `${ABSTRACT} ${"More words about the method and its results. ".repeat(30)}`;
    const blocks = Array.from({ length: 120 }, (_, i) => `Paper Number ${i} With A Rather Long Title About Something Important\n\n${long}\n\n  • 3 authors\n·\nDec 1 ${i}`);
    const file = join(tempDir(), "big.txt");
    writeFileSync(file, `${HEADER}${blocks.join("\n\n")}\n`);
    await ingestFile(site.ctx, file);
    const result = await publishDigests(site.ctx, { retryUnknown: false, maxPapers: 120 });
    const id = result.digests[0]!.digestId;
    await site.mailCount(1);
    const email = (await site.smtp.parse(site.smtp.received[0]!)).html as string;
    const more = /And (\d+) more in <a href="([^"]+)"/.exec(email);
    expect(more).not.toBeNull();
    // It lands on the first paper the email left out: the page holds them all, in the email's order.
    const url = more![2]!.replace(/&#x3D;/g, "=");
    expect(url).toMatch(new RegExp(`^${site.base}/digests/${id}#paper-[a-z0-9]+$`));
    const page = await (await fetch(url)).text();
    const order = (html: string) => [...html.matchAll(/<h2[^>]*><a [^>]*>Paper Number (\d+) With/g)].map((m) => m[1]);
    const inEmail = order(email);
    const onPage = order(page);
    expect(onPage).toHaveLength(120);
    expect(onPage.slice(0, inEmail.length)).toEqual(inEmail);
    const anchored = new RegExp(`id="${url.split("#")[1]}">\\s*<h2><a [^>]*>Paper Number (\\d+) With`).exec(page)!;
    expect(anchored[1]).toBe(onPage[inEmail.length]);
  });
});

describe("configuration mistakes", () => {
  it("names PAPERMAIL_DB in one line when the database path cannot be used", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "file"), "not a folder");
    const r = await runCli(["status"], { cwd, env: { PAPERMAIL_DB: join(cwd, "file", "papermail.db") } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^papermail: PAPERMAIL_DB: cannot open the database/);
  });

  it("names PAPERMAIL_PORT in one line when the port is taken", async () => {
    const site = await startSite();
    const r = await runCli(["serve", "--no-scheduler"], { cwd: tempDir(), env: { PAPERMAIL_PORT: String(site.port) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^papermail: PAPERMAIL_PORT: port \d+ on 127\.0\.0\.1 is already in use/m);
  });

  it("warns about a PAPERMAIL_ variable it does not know, naming the closest one", async () => {
    const r = await runCli(["status"], { cwd: tempDir(), env: { PAPERMAIL_SMTP_PORT: "25", PAPERMAIL_MAX_PAPER: "5" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: PAPERMAIL_MAX_PAPER is not a papermail setting and is ignored \(did you mean PAPERMAIL_MAX_PAPERS\?\)/);
    expect(r.stderr).toMatch(/warning: PAPERMAIL_SMTP_PORT is not a papermail setting/);
  });
});
