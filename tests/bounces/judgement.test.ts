import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBounceReport } from "../../src/bounces/report/read.js";
import { arf, dsn, sesBounce } from "../helpers/bounce-messages.js";
import { sentProject } from "../helpers/bounce-project.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { growth } from "../helpers/linear.js";
import { defer } from "../helpers/cleanup.js";
import { addressList, ledger, project } from "../helpers/project.js";
import { startScriptedSmtp, type ScriptAction } from "../helpers/smtp-server.js";
import { startSite } from "../helpers/site.js";

/** A project whose mail goes to a scripted server; the readers imported and a dump ingested. */
async function scriptedProject(script: Parameters<typeof startScriptedSmtp>[0], readers: string) {
  const server = await startScriptedSmtp(script);
  defer(() => server.close());
  const p = project(server.url);
  p.env.PAPERMAIL_SMTP_POOL = "1";
  await p.cli(["subscribers", "import", "-", "--confirmed"], readers);
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  const statuses = () => (p.db().prepare("SELECT status FROM subscribers ORDER BY id").all() as Array<{ status: string }>).map((r) => r.status);
  const events = () => p.db().prepare("SELECT kind, reason, domain, source FROM bounce_events ORDER BY id").all();
  return { ...p, server, statuses, events };
}

const at = (verb: string, reply: ScriptAction, only?: string) => (line: string) => (line.startsWith(verb) && (!only || line.includes(only)) ? reply : undefined);

describe("a refusal of our sender or our message is never a reader's fault", () => {
  it("a 550 to MAIL FROM pauses the run with everyone queued, quotes the server and exits 2; nobody is bounced", async () => {
    const p = await scriptedProject({ command: at("MAIL", "550 5.7.1 <digest@example.org>: Sender address rejected: not owned by user") }, addressList(5));
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refused MAIL FROM (the sender): "550 5.7.1 <digest@example.org>: Sender address rejected: not owned by user"');
    expect(r.stderr).toMatch(/mend the sender's setup/);
    expect(ledger(p.db()).map((row) => row.status)).toEqual(Array(5).fill("queued"));
    expect(p.statuses()).toEqual(Array(5).fill("active"));
    expect(p.events()).toEqual([]);
  });

  it("a 554 after the end of the data (content rejected) pauses the run the same way", async () => {
    const p = await scriptedProject({ afterData: "554 5.7.1 Message content rejected" }, addressList(5));
    const r = await p.cli(["send-digest", "--json"]);
    expect(r.code).toBe(2);
    const digest = JSON.parse(r.stdout).digests[0];
    expect(digest).toMatchObject({ stopReason: "sender", queued: 5, failed: 0, sent: 0 });
    expect(digest.stopped).toContain('refused the message: "554 5.7.1 Message content rejected"');
    expect(p.statuses()).toEqual(Array(5).fill("active"));
  });

  it("a DMARC refusal (5.7.26) at RCPT TO fails that reader's copy only: the reader stays, the domain's refusals are counted and shown", async () => {
    // Gmail's words, over two lines as Gmail sends them.
    const dmarc = "550-5.7.26 Unauthenticated email from example.org is not accepted due to\r\n550 5.7.26 domain's DMARC policy";
    const readers = ["ada@strict.example", "bob@example.org", "cy@strict.example", "dee@example.org"].join("\n");
    const p = await scriptedProject({ command: at("RCPT", dmarc, "@strict.example") }, readers);
    const r = await p.cli(["send-digest", "--json"]);
    expect(r.code).toBe(1);
    const digest = JSON.parse(r.stdout).digests[0];
    expect(digest).toMatchObject({ sent: 2, failed: 2 });
    expect(digest.senderRefusals).toEqual([{ domain: "strict.example", count: 2, attempted: 2, statusCode: "5.7.26", reply: dmarc.replace("\r\n", "\n") }]);
    expect(p.statuses()).toEqual(["active", "active", "active", "active"]);
    expect(p.events()).toEqual([
      { kind: "sender", reason: "authfailure", domain: "strict.example", source: "smtp" },
      { kind: "sender", reason: "authfailure", domain: "strict.example", source: "smtp" },
    ]);
    const status = await p.cli(["status"]);
    expect(status.stdout).toMatch(/2 refusals of our side/);
    expect(status.stdout).toMatch(/refused +strict\.example: 2 in 7 days \(5\.7\.26\)/);
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).senderRefusalsLast7Days[0]).toMatchObject({ domain: "strict.example", count: 2 });
  });

  it("refusals of our side again and again pause the run and put the refused readers back in the queue", async () => {
    const p = await scriptedProject({ command: at("RCPT", "550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org") }, addressList(8));
    const r = await p.cli(["send-digest", "--json"]);
    expect(r.code).toBe(2);
    const digest = JSON.parse(r.stdout).digests[0];
    expect(digest.stopReason).toBe("sender");
    expect(digest.stopped).toMatch(/5 refusals of our sender in a row, the last from example\.org: .*spamhaus/);
    expect(ledger(p.db()).map((row) => row.status)).toEqual(Array(8).fill("queued"));
    expect(p.statuses()).toEqual(Array(8).fill("active"));
  });

  it("a 5.1.1 at RCPT TO bounces that reader; a 5.2.2 mailbox full only counts a soft bounce", async () => {
    const p = await scriptedProject(
      { command: (line) => (line.startsWith("RCPT TO:<gone@") ? "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown" : line.startsWith("RCPT TO:<full@") ? "552 5.2.2 Mailbox full" : undefined) },
      "gone@example.org\nfull@example.org\nada@example.org\n",
    );
    const r = await p.cli(["send-digest", "--json"]);
    expect(JSON.parse(r.stdout).digests[0]).toMatchObject({ sent: 1, failed: 2 });
    expect(p.statuses()).toEqual(["bounced", "active", "active"]);
    expect(p.events()).toEqual([
      { kind: "hard", reason: "userunknown", domain: "example.org", source: "smtp" },
      { kind: "soft", reason: "mailboxfull", domain: "example.org", source: "smtp" },
    ]);
  });
});

describe("a report changes a reader only with proof that it answers their copy", () => {
  it("forged DSN, ARF and plain-text reports naming a reader change nobody; they are kept as unverified and shown", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    const forged = [
      dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "5.1.1" }),
      arf({ recipient: "ada@example.org", original: "From: someone@example.net\r\nTo: ada@example.org\r\nSubject: hi\r\n\r\nhello" }),
      ["From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "To: bounces@example.org", "Subject: Delivery Status Notification (Failure)", "Message-ID: <forged-3@x>", "", "Delivery to the following recipient failed permanently:", "", "     ada@example.org", "", "550 5.1.1 The email account that you tried to reach does not exist.", ""].join("\r\n"),
      // A VERP address of the right shape and a Message-ID of ours, both with a MAC nobody but papermail can make.
      dsn({ to: "bounces+1.1.0123456789abcdef@example.org", recipient: "ada@example.org", status: "5.1.1", messageId: "<forged-4@x>" }),
      dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "5.1.1", messageId: "<forged-5@x>", original: "Message-ID: <digest-1.1.0123456789abcdef@example.org>\r\nSubject: x" }),
    ];
    const folder = join(p.cwd, "forged");
    mkdirSync(folder);
    forged.forEach((text, i) => writeFileSync(join(folder, `${i}.eml`), text));
    const r = await p.cli(["bounces", "ingest", folder, "--json"]);
    const out = JSON.parse(r.stdout);
    expect(out.messages.map((m: { status: string }) => m.status)).toEqual(Array(5).fill("unverified"));
    expect(out.messages[0].entries[0]).toMatchObject({ recipient: "ada@example.org", kind: "hard", reason: "userunknown", proof: null, subscriber: null, effect: "none" });
    expect(out.messages[1].entries[0]).toMatchObject({ kind: "complaint", effect: "none" });
    expect([p.status("ada@example.org"), p.events()]).toEqual(["active", 0]);
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.bounceReportsLast30Days.unverified).toBe(5);
    expect(status.latestUnverifiedReports[0].claims.entries[0]).toMatchObject({ recipient: "ada@example.org" });
    expect((await p.cli(["status"])).stdout).toMatch(/5 report\(s\) without proof changed nobody/);
  });

  it("recognises a complaint whose original is attached inline, by the keyed Message-ID of the reader's copy", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org"]);
    const original = p.server.received.find((m) => m.to[0] === "bob@example.org")!.raw.toString("latin1");
    const report = arf({ recipient: "redacted@isp.example", original }).replace("Content-Type: message/rfc822", "Content-Type: message/rfc822\r\nContent-Disposition: inline");
    const r = await p.cli(["bounces", "ingest", p.file("inline.eml", report), "--json"]);
    expect(JSON.parse(r.stdout).messages[0].entries[0]).toMatchObject({ kind: "complaint", proof: "message-id", subscriber: "bob@example.org", effect: "complained" });
    expect([p.status("ada@example.org"), p.status("bob@example.org")]).toEqual(["active", "complained"]);
  });

  it("reads an SES notification whose diagnosticCode is a number, and applies it with the reader's Message-ID", async () => {
    const p = await sentProject(["ada@example.org"]);
    const messageId = (await p.server.parse(p.server.received[0]!)).messageId!;
    const r = await p.cli(["bounces", "ingest", p.file("ses.eml", sesBounce({ recipient: "ada@example.org", type: "Permanent", messageId, diagnosticCode: 550 }))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hard \(userunknown 5\.1\.1\) for ada@example\.org; proof: message-id; -> bounced/);
  });

  it("--dry-run --json says for each message its kind, reason, code, recipients, proof and what would happen, and changes nothing", async () => {
    const p = await sentProject(["ada@example.org", "bob@example.org", "cy@example.org", "dee@example.org"]);
    const copy = (who: string) => p.server.received.find((m) => m.to[0] === who)!.raw.toString("latin1");
    const folder = join(p.cwd, "in");
    mkdirSync(folder);
    const put = (name: string, text: string) => writeFileSync(join(folder, name), text);
    put("1-hard.eml", dsn({ to: p.verp.get("ada@example.org")!, recipient: "ada@example.org", status: "5.1.1" }));
    put("2-soft.eml", dsn({ to: p.verp.get("bob@example.org")!, recipient: "bob@example.org", status: "4.2.2" }));
    put("3-sender.eml", dsn({ to: p.verp.get("cy@example.org")!, recipient: "cy@example.org", status: "5.7.1" }).replace(/mailbox says no/, "blocked using zen.spamhaus.org"));
    put("4-complaint.eml", arf({ recipient: "dee@example.org", original: copy("dee@example.org") }));
    put("5-forged.eml", dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "5.1.1" }));
    put("6-vacation.eml", ["From: cy@example.org", "To: bounces@example.org", "Subject: Out of office", "Auto-Submitted: auto-replied", "Message-ID: <ooo@x>", "", "Back on Monday.", ""].join("\r\n"));
    const dry = await p.cli(["bounces", "ingest", folder, "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    const out = JSON.parse(dry.stdout);
    expect(out.dryRun).toBe(true);
    const first = (i: number) => ({ status: out.messages[i].status, ...out.messages[i].entries[0] });
    expect(first(0)).toMatchObject({ status: "applied", kind: "hard", reason: "userunknown", statusCode: "5.1.1", recipient: "ada@example.org", proof: "verp", subscriber: "ada@example.org", effect: "bounced" });
    expect(first(1)).toMatchObject({ status: "applied", kind: "soft", reason: "mailboxfull", statusCode: "4.2.2", proof: "verp", effect: "soft-counted" });
    expect(first(2)).toMatchObject({ status: "applied", kind: "sender", reason: "blocked", statusCode: "5.7.1", proof: "verp", effect: "sender-counted" });
    expect(first(3)).toMatchObject({ status: "applied", kind: "complaint", reason: "feedback", proof: "message-id", subscriber: "dee@example.org", effect: "complained" });
    expect(first(4)).toMatchObject({ status: "unverified", kind: "hard", proof: null, effect: "none" });
    expect(first(5)).toMatchObject({ status: "not-a-bounce", kind: "not-a-bounce", reason: "vacation", effect: "none" });
    expect(out.totals).toEqual({ messages: 6, applied: 4, unverified: 1, notABounce: 1, duplicate: 0, unrecognised: 0, unreadable: 0 });
    // Nothing changed: no status, no event, no message remembered.
    expect(["ada@example.org", "bob@example.org", "cy@example.org", "dee@example.org"].map(p.status)).toEqual(["active", "active", "active", "active"]);
    expect(p.events()).toBe(0);
    expect(p.db().prepare("SELECT count(*) AS n FROM bounce_messages").get()).toEqual({ n: 0 });
    // The same run for real does what the dry run said.
    const real = JSON.parse((await p.cli(["bounces", "ingest", folder, "--json"])).stdout);
    expect(real.messages.map((m: { entries: Array<{ effect: string }> }) => m.entries[0]?.effect)).toEqual(out.messages.map((m: { entries: Array<{ effect: string }> }) => m.entries[0]?.effect));
    expect(["ada@example.org", "bob@example.org", "cy@example.org", "dee@example.org"].map(p.status)).toEqual(["bounced", "active", "active", "complained"]);
  });
});

describe("reading reports", () => {
  it("names every recipient of a multi-recipient report, falls back to Original-Recipient, and charges no address without a domain", () => {
    const multi = readBounceReport(
      Buffer.from(
        [
          "From: MAILER-DAEMON@mx.example.net",
          "To: bounces@example.org",
          "Message-ID: <m1@x>",
          'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
          "",
          "--B",
          "Content-Type: text/plain",
          "",
          "Delivery failed.",
          "--B",
          "Content-Type: message/delivery-status",
          "",
          "Reporting-MTA: dns; mx.example.net",
          "",
          "Final-Recipient: rfc822; ada@example.org",
          "Action: failed",
          "Status: 5.1.1",
          "",
          "Final-Recipient: rfc822; @relay.example.net:bob%example.org@relay.example.net",
          "Original-Recipient: rfc822; bob@example.org",
          "Action: failed",
          "Status: 5.1.1",
          "",
          "Final-Recipient: rfc822; cy@example.org",
          "Action: failed",
          "Status: 5.2.2",
          "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full",
          "--B--",
          "",
        ].join("\r\n"),
      ),
    );
    expect(multi.recognised && multi.entries.map((e) => [e.recipient, e.kind])).toEqual([
      ["ada@example.org", "hard"],
      ["bob@example.org", "hard"],
      ["cy@example.org", "soft"],
    ]);
    const noDomain = readBounceReport(
      Buffer.from(
        [
          "From: Mail Delivery System <Mailer-Daemon@exim.example>",
          "To: digest@example.org",
          "Subject: Mail delivery failed: returning message to sender",
          "Message-ID: <m2@x>",
          "",
          "A message that you sent could not be delivered to one or more of its",
          "recipients. This is a permanent error. The following address(es) failed:",
          "",
          "  ada",
          "    550 5.1.1 unknown user",
          "",
          "------ This is a copy of the message, including all the headers. ------",
          "From: Papers <digest@example.org>",
          "To: ada",
          "",
        ].join("\r\n"),
      ),
    );
    expect(noDomain.recognised && noDomain.entries.map((e) => e.recipient)).toEqual([null]);
  });

  it("reads a 160 KB address field and a 4 MB message in time that grows linearly with them", () => {
    const bytes = (text: string) => Buffer.from(text);
    const longField = (n: number) => bytes(dsn({ to: `bounces@example.org, ${Array.from({ length: n }, (_, i) => `r${i}@x.example`).join(", ")}`, recipient: "ada@example.org", status: "5.1.1" }));
    const noAt = (n: number) => bytes(dsn({ to: `"${"a".repeat(n)}" <bounces@example.org>`, recipient: "ada@example.org", status: "5.1.1" }));
    const huge = (n: number) => bytes(`${dsn({ to: "bounces@example.org", recipient: "ada@example.org", status: "5.1.1" })}\r\n${"x@".repeat(n)}`);
    for (const [make, n] of [[longField, 8000], [noAt, 160 * 1024], [huge, 512 * 1024]] as const) {
      expect(readBounceReport(make(4 * n)).recognised).toBe(true);
      // Four times the input, about four times the work (a quadratic reader would take 16 times);
      // the fastest of five runs each, so that a pause of the machine does not count.
      expect(growth(make, readBounceReport, n, 5)).toBeLessThan(8);
    }
  });
});

describe("the operator's suppressions win", () => {
  it("an address suppressed by hand gets no confirmation from the form and is never pending again without suppressions remove", async () => {
    const site = await startSite();
    const cli = (args: string[]) => runCli(args, { cwd: site.cwd, env: site.env });
    expect((await cli(["suppressions", "add", "ada@example.org", "--reason", "asked by phone"])).code).toBe(0);
    const status = () => (site.ctx.db.prepare("SELECT status FROM subscribers WHERE email = 'ada@example.org'").get() as { status: string }).status;
    const posted = await site.post("/subscribe", { email: "ada@example.org" });
    expect(posted.status).toBeLessThan(400);
    await site.logged(/confirmation email not sent: the address is subscribed already, or may not be mailed/);
    expect(site.smtp.received).toHaveLength(0);
    expect(status()).toBe("unsubscribed");
    const added = await cli(["subscribers", "add", "ada@example.org"]);
    expect(added.stdout).toMatch(/kept unsubscribed \(you put it on the suppression list: 'papermail suppressions remove ada@example\.org' first\)/);
    expect(status()).toBe("unsubscribed");
    expect((await cli(["suppressions", "remove", "ada@example.org"])).code).toBe(0);
    expect(status()).toBe("pending");
    await site.post("/subscribe", { email: "ada@example.org" });
    expect(await site.mailCount(1)).toBe(1);
  });
});
