import Database from "better-sqlite3";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { arf, dsn, eximBounce, newsletter, sesBounce } from "../helpers/bounce-messages.js";
import { startDovecot } from "../helpers/imap.js";
import { hasPackage } from "../helpers/system-packages.js";
import { project, smtp } from "../helpers/project.js";
import { sentProject } from "../helpers/bounce-project.js";
import { startSite } from "../helpers/site.js";

describe("VERP and the headers bulk mail needs", () => {
  it("gives each message its own bounces+token@ envelope sender, and the From address without the setting", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    for (const [to, from] of p.verp) expect(from, to).toMatch(/^bounces\+[0-9a-z]+\.[0-9a-z]+\.[0-9a-f]{16}@example\.org$/);
    expect(new Set(p.verp.values()).size).toBe(2);
    const mail = p.server.received[0]!.raw.toString("latin1");
    expect(mail).toMatch(/^Feedback-ID: d1:digest:papermail:papers\.example\.org\r$/m);
    expect(mail).toMatch(/^Auto-Submitted: auto-generated\r$/m);
    expect(mail).not.toMatch(/^Precedence:/m);

    const plain = await smtp();
    const q = project(plain.url);
    await q.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await q.cli(["ingest", SAMPLE_FILES[0]!]);
    await q.cli(["send-digest"]);
    expect(plain.received[0]!.from).toBe("digest@example.org");
  });
});

describe("bounces and complaints from files", () => {
  it("a hard bounce makes the reader bounced, once, even when the message is read twice", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    const path = p.file("hard.eml", dsn({ to: p.verp.get("ada@example.org")!, recipient: "ada@example.org", status: "5.1.1" }));
    const first = await p.cli(["bounces", "ingest", path]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied .*hard \(userunknown 5\.1\.1\) for ada@example\.org; proof: verp; -> bounced/);
    const again = await p.cli(["bounces", "ingest", path, "--json"]);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ applied: 0, duplicate: 1 });
    expect([p.status("ada@example.org"), p.status("bob@example.org"), p.events()]).toEqual(["bounced", "active", 1]);
    const list = JSON.parse((await p.cli(["subscribers", "list", "--status", "bounced", "--json"])).stdout);
    expect(list.map((s: { email: string }) => s.email)).toEqual(["ada@example.org"]);
    expect((await p.cli(["status"])).stdout).toMatch(/1 bounced, 0 complained/);
  });

  it("three soft bounces of three messages within 15 days make a reader bounced; copies of one report count once", async () => {
    const p = await sentProject(["ada@example.org"]);
    // Two more digests, each with its own VERP address for ada.
    for (const file of [SAMPLE_FILES[2]!, SAMPLE_FILES[3]!]) {
      await p.cli(["ingest", file]);
      await p.cli(["send-digest"]);
    }
    const envelopes = p.server.received.filter((m) => m.to[0] === "ada@example.org").map((m) => m.from);
    expect(new Set(envelopes).size).toBe(3);
    const soft = (i: number, to: string) => p.file(`soft${i}.eml`, dsn({ to, recipient: "ada@example.org", status: "4.2.2", messageId: `<soft${i}@mx>` }));
    // The same message's bounce three times (three Message-IDs), and a repeat of one file.
    await p.cli(["bounces", "ingest", soft(1, envelopes[0]!), soft(2, envelopes[0]!), soft(3, envelopes[0]!), soft(3, envelopes[0]!)]);
    expect([p.status("ada@example.org"), p.events()]).toEqual(["active", 3]);
    // A delay warning is not a bounce.
    await p.cli(["bounces", "ingest", p.file("delayed.eml", dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "4.4.1", action: "delayed" }))]);
    expect(p.events()).toBe(3);
    await p.cli(["bounces", "ingest", soft(4, envelopes[1]!)]);
    expect(p.status("ada@example.org")).toBe("active");
    await p.cli(["bounces", "ingest", soft(5, envelopes[2]!)]);
    expect(p.status("ada@example.org")).toBe("bounced");
  });

  it("a complaint in an mbox makes the reader complained at once; a message it does not know is reported and left", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    const original = p.server.received.find((m) => m.to[0] === "bob@example.org")!.raw.toString("latin1");
    const mbox = [arf({ recipient: "redacted@isp.example", original }), newsletter()].map((m) => `From MAILER-DAEMON Thu Dec 12 08:00:00 2024\n${m.replace(/^From /gm, ">From ")}\n`).join("\n");
    const r = await p.cli(["bounces", "ingest", p.file("fbl.mbox", mbox)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/applied .*fbl\.mbox#1: complaint \(feedback\) for bob@example\.org; proof: message-id; -> complained/);
    expect(r.stderr).toMatch(/unrecognised .*fbl\.mbox#2: not a bounce or complaint \(left as it is\)/);
    expect(p.status("bob@example.org")).toBe("complained");
  });

  it("reads a maildir with an Exim bounce, an SES notice and a mangled bounce that only VERP can place", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org", "cy@example.org"]);
    const maildir = join(p.cwd, "Maildir");
    for (const d of ["new", "cur", "tmp"]) mkdirSync(join(maildir, d), { recursive: true });
    writeFileSync(join(maildir, "new", "1"), eximBounce({ to: p.verp.get("ada@example.org")!, recipient: "ada@example.org" }));
    // SES notifications carry the bounced message's Message-ID: papermail's keyed one ties it to bob.
    const bobs = (await p.server.parse(p.server.received.find((m) => m.to[0] === "bob@example.org")!)).messageId!;
    writeFileSync(join(maildir, "cur", "2:2,S"), sesBounce({ recipient: "bob@example.org", type: "Permanent", messageId: bobs }));
    // A relay that rewrote the body beyond recognition: only the envelope it was sent back to says who.
    writeFileSync(join(maildir, "new", "3"), eximBounce({ to: p.verp.get("cy@example.org")!, recipient: "unrelated-alias@example.net" }));
    const r = await p.cli(["bounces", "ingest", maildir, "--json"]);
    expect(JSON.parse(r.stdout).totals).toMatchObject({ messages: 3, applied: 3 });
    expect(["ada@example.org", "bob@example.org", "cy@example.org"].map(p.status)).toEqual(["bounced", "bounced", "bounced"]);
  });

  it("counts a 5.1.1 answer at RCPT TO as a hard bounce", async () => {
    const p = await sentProject(["gone@example.org", "ada@example.org"]);
    expect([p.status("gone@example.org"), p.status("ada@example.org")]).toEqual(["bounced", "active"]);
    expect(p.db().prepare("SELECT kind, reason, source, status_code AS code, domain FROM bounce_events").all()).toEqual([{ kind: "hard", reason: "userunknown", source: "smtp", code: "5.1.1", domain: "example.org" }]);
  });
});

describe.skipIf(!hasPackage("dovecot-imapd"))("bounces from an IMAP mailbox (Dovecot)", () => {
  it("fetches a hard bounce, a soft series and a complaint, flags them, and counts nothing twice", async () => {
    const imap = await startDovecot();
    const p = await sentProject(["ada@example.org", "bob@example.org", "cy@example.org"], { PAPERMAIL_BOUNCE_MAILBOX: imap.url, PAPERMAIL_BOUNCE_CA_FILE: imap.caFile });
    imap.deliver(dsn({ to: p.verp.get("ada@example.org")!, recipient: "ada@example.org", status: "5.1.1" }));
    // Three reports of bob's one message: one soft bounce, not three.
    for (let i = 0; i < 3; i++) imap.deliver(dsn({ to: p.verp.get("bob@example.org")!, recipient: "bob@example.org", status: "4.2.2" }));
    const original = p.server.received.find((m) => m.to[0] === "cy@example.org")!.raw.toString("latin1");
    imap.deliver(arf({ recipient: "cy@example.org", original }));
    imap.deliver(newsletter());
    // An SES notice with a number where text belongs, about nobody we can prove: read, kept as unverified, never in the way.
    imap.deliver(sesBounce({ recipient: "zed@example.org", type: "Permanent", diagnosticCode: 550 }));
    const first = await p.cli(["bounces", "fetch", "--json"]);
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout).totals).toMatchObject({ messages: 7, applied: 5, unverified: 1, unrecognised: 1 });
    expect(["ada@example.org", "bob@example.org", "cy@example.org"].map(p.status)).toEqual(["bounced", "active", "complained"]);
    const events = p.events();
    const second = await p.cli(["bounces", "fetch", "--json"]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).totals).toMatchObject({ messages: 0 });
    expect(p.events()).toBe(events);
  }, 60_000);

  it("says what is wrong with the mailbox setting, without the password", async () => {
    const imap = await startDovecot();
    const p = project();
    Object.assign(p.env, { PAPERMAIL_BOUNCE_MAILBOX: imap.url.replace("secret", "wrong"), PAPERMAIL_BOUNCE_CA_FILE: imap.caFile });
    const r = await p.cli(["bounces", "fetch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PAPERMAIL_BOUNCE_MAILBOX: cannot read imap:\/\/127\.0\.0\.1:\d+\/INBOX: the login was refused/);
    expect(r.stderr).not.toContain("wrong");
  }, 30_000);
});

describe("the suppression list", () => {
  it("keeps bounced and complained addresses out of import and the form, and lets an operator manage it", async () => {
    const site = await startSite();
    const { findSubscriberByEmail } = await import("../../src/store/subscribers.js");
    const { addConfirmedReader } = await import("../../src/subscribers/manage.js");
    const { applyConsentEvent } = await import("../../src/store/consent.js");
    const at = new Date().toISOString();
    for (const e of ["b@example.org", "c@example.org"]) addConfirmedReader(site.ctx.db, e, at);
    applyConsentEvent(site.ctx.db, { id: findSubscriberByEmail(site.ctx.db, "b@example.org")!.id }, { type: "bounce" }, at, { reason: "hard bounce 5.1.1 (dsn)" });
    applyConsentEvent(site.ctx.db, { id: findSubscriberByEmail(site.ctx.db, "c@example.org")!.id }, { type: "complaint" }, at, { reason: "complaint (arf)" });
    const cli = (args: string[], input?: string) => runCli(args, { cwd: site.cwd, env: site.env, input });
    const imported = await cli(["subscribers", "import", "-", "--confirmed"], "b@example.org\nc@example.org\n");
    expect(imported.stdout).toMatch(/2 kept unsubscribed, bounced or complained/);
    expect(findSubscriberByEmail(site.ctx.db, "b@example.org")!.status).toBe("bounced");
    // The form: a bounced or complained address may come back, by a confirmation to click; until then nothing changes.
    for (const email of ["b@example.org", "c@example.org"]) expect((await site.post("/subscribe", { email })).status).toBe(200);
    await site.mailCount(2);
    expect(site.smtp.received.map((m) => m.to[0]).sort()).toEqual(["b@example.org", "c@example.org"]);
    expect(findSubscriberByEmail(site.ctx.db, "b@example.org")!.status).toBe("bounced");
    expect(findSubscriberByEmail(site.ctx.db, "c@example.org")!.status).toBe("complained");

    const list = JSON.parse((await cli(["suppressions", "list", "--json"])).stdout);
    expect(list).toEqual([
      expect.objectContaining({ email: "b@example.org", status: "bounced", reason: "hard bounce 5.1.1 (dsn)" }),
      expect.objectContaining({ email: "c@example.org", status: "complained", reason: "complaint (arf)" }),
    ]);
    expect((await cli(["suppressions", "add", "never@example.org", "--reason", "asked by phone"])).code).toBe(0);
    expect((await cli(["subscribers", "add", "never@example.org", "--confirmed"])).stdout).toMatch(/kept unsubscribed/);
    const removed = await cli(["suppressions", "remove", "c@example.org"]);
    expect(removed.stdout).toMatch(/removed c@example\.org from the suppression list \(was complained; now pending/);
    const csv = (await cli(["subscribers", "export"])).stdout;
    expect(csv).toMatch(/^email,status,created_at,confirmed_at,unsubscribed_at,suppressed_reason,suppressed_at,cadence,topics,min_upvotes,format,also_trending$/m);
    expect(csv).toMatch(/^never@example\.org,unsubscribed,.*asked by phone/m);
  });
});

describe("rotating the secret", () => {
  it("keeps old links and bounce addresses working with PAPERMAIL_SECRET_PREVIOUS", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    const link = (await p.server.parse(p.server.received[0]!)).headerLines.find((h) => h.key === "list-unsubscribe")!.line;
    const token = /\/unsubscribe\/([^>]+)>/.exec(link)![1]!;
    const rotated = { ...p.env, PAPERMAIL_SECRET: "r".repeat(40), PAPERMAIL_SECRET_PREVIOUS: "s".repeat(40) };
    const { loadConfig } = await import("../../src/config/load.js");
    const { openDatabase } = await import("../../src/store/db.js");
    const { findUnsubscribable } = await import("../../src/subscribers/subscribe.js");
    const ctx = (env: Record<string, string>) => ({ db: openDatabase(join(p.cwd, "var", "papermail.db")), config: loadConfig(env, p.cwd), clock: { now: () => new Date() } });
    expect(findUnsubscribable(ctx({ ...p.env, PAPERMAIL_SECRET: "r".repeat(40) }), token)).toBeUndefined();
    expect(findUnsubscribable(ctx(rotated), token)).toBeDefined();
    const bounce = p.file("b.eml", eximBounce({ to: p.verp.get("bob@example.org")!, recipient: "someone-else@example.net" }));
    const r = await runCli(["bounces", "ingest", bounce], { cwd: p.cwd, env: rotated });
    expect(r.stdout).toMatch(/for bob@example\.org; proof: verp; -> bounced/);
  });
});

describe("a ledger that stays bounded", () => {
  it("compacts old digests into counts; unsubscribe links in old mail keep working; backup copies the database", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    // The pool's connections deliver in any order: take Ada's own copy.
    const adasCopy = p.server.received.find((m) => m.to[0] === "ada@example.org")!;
    const token = /\/unsubscribe\/([^>]+)>/.exec((await p.server.parse(adasCopy)).headerLines.find((h) => h.key === "list-unsubscribe")!.line)![1]!;
    const db = new Database(join(p.cwd, "var", "papermail.db"));
    db.prepare("UPDATE digests SET finished_at = ?").run(new Date(Date.now() - 31 * 86400_000).toISOString());
    db.close();
    const r = await p.cli(["maintenance", "compact", "--json"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ digests: 1, rows: 2, remainingRows: 0 });
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).lastDigest).toMatchObject({ sent: 2, recipientCount: 2 });
    // The digest's reader groups went with its rows: the database stays bounded.
    expect(p.db().prepare("SELECT count(*) AS n FROM digest_groups").get()).toEqual({ n: 0 });
    const { unsubscribeByToken } = await import("../../src/subscribers/subscribe.js");
    const { openDatabase } = await import("../../src/store/db.js");
    const { loadConfig } = await import("../../src/config/load.js");
    const ctx = { db: openDatabase(join(p.cwd, "var", "papermail.db")), config: loadConfig(p.env, p.cwd), clock: { now: () => new Date() } };
    expect(await unsubscribeByToken(ctx, token)).toBe(true);
    expect(p.status("ada@example.org")).toBe("unsubscribed");

    const backup = join(tempDir(), "copy.db");
    expect((await p.cli(["maintenance", "backup", backup])).code).toBe(0);
    const copy = new Database(backup, { readonly: true });
    expect(copy.prepare("SELECT count(*) AS n FROM subscribers").get()).toEqual({ n: 2 });
    copy.close();
  });

  it("finishes compacting a digest that a stopped run had counted but not yet emptied", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org", "cy@example.org"]);
    const db = new Database(join(p.cwd, "var", "papermail.db"));
    db.prepare("UPDATE digests SET finished_at = ?").run(new Date(Date.now() - 31 * 86400_000).toISOString());
    // As a run stopped after counting and one batch: totals written, rows left.
    db.prepare("INSERT INTO digest_totals (digest_id, sent, failed, unknown, skipped, compacted_at) VALUES (1, 3, 0, 0, 0, '2024-01-01')").run();
    db.prepare("DELETE FROM deliveries WHERE subscriber_id = 1").run();
    db.close();
    expect(JSON.parse((await p.cli(["maintenance", "compact", "--json"])).stdout)).toMatchObject({ digests: 1, rows: 2, remainingRows: 0 });
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).lastDigest).toMatchObject({ sent: 3 });
  });
});
