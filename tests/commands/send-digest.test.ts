import Database from "better-sqlite3";
import { writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publishDigests } from "../../src/digest/publish.js";
import type { CommandContext } from "../../src/commands/context.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";
import { applyConsentEvent } from "../../src/store/consent.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { type Fault } from "../helpers/smtp-server.js";
import { ABSTRACT, addressList, context, frozenDigest, HEADER, killedSend, ledger, project, smtp } from "../helpers/project.js";
import { downRelay } from "../helpers/down-relay.js";
import { hasPackage } from "../helpers/system-packages.js";

describe("send-digest", () => {
  it("sends each paper once across two list days, and nothing when no new day is listed", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "alan@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const first = await p.cli(["send-digest", "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).digests[0]).toMatchObject({ papers: 4, recipients: 2, sent: 2, failed: 0 });

    // The page of Dec 15: 56 papers not listed on Dec 12.
    await p.cli(["ingest", SAMPLE_FILES[2]!]);
    const second = JSON.parse((await p.cli(["send-digest", "--json", "--max-papers", "100"])).stdout);
    expect(second.digests[0]).toMatchObject({ papers: 56, sent: 2 });

    const third = await p.cli(["send-digest"]);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain("No new digest: nothing new since the digest of Dec 15.");
    expect(server.received).toHaveLength(4);

    const titlesOf = async (i: number) => {
      const html = (await server.parse(server.received[i]!)).html as string;
      // Handlebars writes "=" in attributes as &#x3D;, which browsers read back as "=".
      return [...html.matchAll(/papers\?q(?:=|&#x3D;)([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!.replace(/&amp;/g, "&")));
    };
    const firstTitles = new Set(await titlesOf(0));
    const secondTitles = new Set(await titlesOf(2));
    expect(firstTitles.size).toBe(4);
    // 56 papers are more than the email holds: the rest are on the digest's web page.
    expect(secondTitles.size).toBeGreaterThan(20);
    for (const t of firstTitles) expect(secondTitles.has(t)).toBe(false);
  });

  it("writes one .eml file per recipient to the outbox when no SMTP server is set", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const r = await p.cli(["send-digest"]);
    expect(r.stdout).toMatch(/Mail went to outbox var\/outbox\/1/);
    expect(existsSync(join(p.cwd, "var", "outbox", "1", "0000001-ada@example.org.eml"))).toBe(true);
  });

  it("builds a digest email with both parts, list headers, and nothing from a dump unescaped", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    const dump = join(p.cwd, "evil.txt");
    const title = `<script>alert(1)</script> & "q"`;
    writeFileSync(
      dump,
      `${HEADER}${title}\n\n${ABSTRACT} <img src=x onerror=alert(2)> javascript:alert(3) https://github.com/org/repo\n\n  • 2 authors\n·\nDec 1 7\n\nPlain Paper\n\n${ABSTRACT}\n`,
    );
    await p.cli(["ingest", dump]);
    await p.cli(["send-digest"]);
    expect(server.received).toHaveLength(1);
    const mail = await server.parse(server.received[0]!);
    expect(mail.subject).toMatch(/^Trending on Hugging Face · Dec 12: .+ and 1 more$/);
    const html = mail.html as string;
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;");
    expect(html).toContain('href="https://github.com/org/repo"');
    expect(mail.text).toContain(title);
    expect(mail.text).toContain("Code: https://github.com/org/repo");

    const headers = mail.headers;
    const unsubscribe = String((headers.get("list-unsubscribe") as { url?: string } | undefined)?.url ?? mail.headerLines.find((h) => h.key === "list-unsubscribe")?.line);
    expect(unsubscribe).toMatch(/https:\/\/papers\.example\.org\/unsubscribe\/[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}>/);
    expect(mail.headerLines.find((h) => h.key === "list-unsubscribe-post")?.line).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    expect(mail.headerLines.find((h) => h.key === "list-id")?.line).toContain("<digest.papers.example.org>");
    // Keyed: it names the digest and the reader for bounce reports, and nobody can make one up.
    expect(mail.messageId).toMatch(/^<digest-1\.1\.[0-9a-f]{16}@example\.org>$/);
    expect(mail.from?.text).toBe('"Papers" <digest@example.org>');
    expect(html).toContain("https://papers.example.org/digests/1");
    expect(html).toContain("ada@example.org");
  });

  it("keeps the largest real day's 30 papers, with summaries and stars, under 95 KB of HTML as sent", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    // The largest sample: the page of Mar 11, 96 papers.
    await p.cli(["ingest", SAMPLE_FILES[3]!]);
    // What a daily_papers answer adds to each (the real summary of "Why Language Models Hallucinate" is 206 characters).
    const summary = "Language models produce incorrect statements due to training and evaluation procedures that reward guessing over acknowledging uncertainty, leading to a need for socio-technical changes in benchmark scoring.";
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(join(p.cwd, "var", "papermail.db"));
    db.prepare("UPDATE papers SET ai_summary = ? || ' (' || id || ')', github_stars = id * 97, code_url = coalesce(code_url, 'https://github.com/example/repo-' || id), arxiv_id = coalesce(arxiv_id, '2503.' || (10000 + id))").run(summary);
    db.close();
    expect((await p.cli(["send-digest"])).code).toBe(0);
    const raw = server.received[0]!.raw.toString("latin1");
    const htmlPart = /Content-Type: text\/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n([\s\S]*?)\r\n--/.exec(raw)![1]!;
    expect(htmlPart.length).toBeLessThan(95 * 1024);
    const html = (await server.parse(server.received[0]!)).html as string;
    // Every paper is in the email, each with its summary and stars: nothing was moved to the web to fit.
    expect(html.match(/ \(\d+\)<\/p>/g)).toHaveLength(30);
    expect(html.match(/★\u00a0\d/g)).toHaveLength(30);
    expect(html).not.toContain("more in <a");
    // Abstracts keep their usual length: the budget was not what shaped this email.
    expect(html.match(/<p class="a"[^>]*>[^<]{300,}/g)?.length).toBeGreaterThanOrEqual(25);
    const text = (await server.parse(server.received[0]!)).text!;
    expect(text).toContain("1. ");
    expect(text.match(/trending/gi)).toHaveLength(1);
  });

  it("--dry-run, --preview and --to publish nothing and mark nothing", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const dry = await p.cli(["send-digest", "--dry-run"]);
    expect(dry.stdout).toContain("to 1 active daily reader(s)");
    expect(dry.stdout).toContain("Return of the Encoder");
    await p.cli(["send-digest", "--preview", "out.html"]);
    const test = await p.cli(["send-digest", "--to", "o'neil&co@example.org"]);
    expect(test.code).toBe(0);
    expect(server.received.map((m) => m.to)).toEqual([["o'neil&co@example.org"]]);
    const copy = (await server.parse(server.received[0]!)).html as string;
    expect(copy).toContain("o&#39;neil&#38;co@example.org");
    expect(copy).not.toContain("o'neil&co@");
    expect((await server.parse(server.received[0]!)).subject).toMatch(/^Trending on Hugging Face · Dec 12: .+ and 3 more$/);
    const db = p.db();
    expect(db.prepare("SELECT count(*) AS n FROM digests").get()).toEqual({ n: 0 });
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).papers.unsent).toBe(4);
    expect((await p.cli(["send-digest", "--to", "not an address"])).code).toBe(2);
  });

  it("names the list day and the top paper in the subject", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[1]!]);
    const top = JSON.parse((await p.cli(["papers", "--limit", "1", "--json"])).stdout)[0].title as string;
    await p.cli(["send-digest", "--max-papers", "30"]);
    const subject = (await server.parse(server.received[0]!)).subject!;
    expect(subject).toMatch(/^Trending on Hugging Face · Dec 12: .+ and 29 more$/);
    const shown = subject.replace(/^Trending on Hugging Face · Dec 12: /, "").replace(/ and 29 more$/, "");
    expect(shown.length).toBeLessThanOrEqual(60);
    expect(top.startsWith(shown.replace(/\.\.\.$/, ""))).toBe(true);
  });

  it("caps a digest with --max-papers; the rest of its days are passed over, never sent later", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[1]!]);
    const a = JSON.parse((await p.cli(["send-digest", "--max-papers", "30", "--json"])).stdout);
    const b = JSON.parse((await p.cli(["send-digest", "--max-papers", "30", "--json"])).stdout);
    expect(a.digests[0].papers).toBe(30);
    expect(b.digests).toEqual([]);
    expect(b.nothingNew).toBe("nothing new since the digest of Dec 12");
    const passed = JSON.parse((await p.cli(["papers", "--passed-over", "--json"])).stdout) as Array<{ fate: string; note: string }>;
    expect(passed).toHaveLength(7);
    expect(passed.every((x) => x.fate === "passed-over" && /^ranked 3[1-7] of 37 for Dec 12 with (\d+ upvotes?|no upvote count), over PAPERMAIL_MAX_PAPERS=30; no reader's topics matched it$/.test(x.note))).toBe(true);
  });
});

describe("exactly once", () => {
  it("retries a 421 and delivers once; a 550 fails that recipient and the run goes on", async () => {
    const faults: Record<string, Fault[]> = { "busy@example.org": ["421"], "gone@example.org": ["550", "550"] };
    const server = await smtp({ fault: (to, n) => faults[to]?.[n - 1] });
    const p = project(server.url);
    await p.cli(["subscribers", "add", "busy@example.org", "gone@example.org", "fine@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const { deliverDigest } = await import("../../src/deliver/engine.js");
    const { ctx, id, mailer } = await frozenDigest(p);
    const report = await deliverDigest({ ...ctx, mailer, secret: "s".repeat(32), owner: "test:1:1" }, id, { concurrency: 2, throttle: { firstPauseMs: 20 } });
    await mailer.close();
    expect(report).toMatchObject({ sent: 2, failed: 1, unknown: 0, complete: true });
    expect(server.countsByRecipient()).toEqual(new Map([["busy@example.org", 1], ["fine@example.org", 1]]));
    const rows = ledger(ctx.db as unknown as Database.Database);
    expect(rows.find((r) => r.email === "gone@example.org")).toMatchObject({ status: "failed", error: expect.stringContaining("No such user") });
  });

  it("pauses without failing anyone while the mail server is down, and resumes on the next run", async () => {
    const relay = await downRelay();
    const p = project(relay.url);
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(20));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const down = await p.cli(["send-digest"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("the mail server is unreachable");
    const rows = p.db().prepare("SELECT status, attempts FROM deliveries").all() as Array<{ status: string; attempts: number }>;
    expect(rows.every((r) => r.status === "queued")).toBe(true);
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).lastDigest.status).toBe("sending");

    const server = await smtp();
    relay.up(server.port);
    const up = JSON.parse((await p.cli(["send-digest", "--json"])).stdout);
    expect(up.digests[0]).toMatchObject({ sent: 20, failed: 0, complete: true });
    expect(server.received).toHaveLength(20);
  });

  it("leaves one copy and an unknown row when the connection drops after DATA, and never re-sends it", async () => {
    const server = await smtp({ fault: (to) => (to === "flaky@example.org" ? "drop-after-data" : undefined) });
    const p = project(server.url);
    await p.cli(["subscribers", "add", "flaky@example.org", "fine@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const r = JSON.parse((await p.cli(["send-digest", "--json"])).stdout);
    expect(r.digests[0]).toMatchObject({ sent: 1, unknown: 1 });
    await p.cli(["send-digest"]);
    expect(server.countsByRecipient()).toEqual(new Map([["flaky@example.org", 1], ["fine@example.org", 1]]));
    expect(ledger(p.db()).find((r) => r.email === "flaky@example.org")!.status).toBe("unknown");
    // An operator who decides the message was lost can resend it.
    const retry = JSON.parse((await p.cli(["send-digest", "--retry-unknown", "--json"])).stdout);
    expect(retry.requeued).toBe(1);
    expect(server.countsByRecipient().get("flaky@example.org")).toBe(2);
  });

  it.skipIf(!hasPackage("python3-dkim"))("signs with DKIM when configured, covering both List-Unsubscribe headers, as an independent verifier confirms", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const server = await smtp();
    const p = project(server.url);
    const keyFile = join(p.cwd, "dkim.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    Object.assign(p.env, { PAPERMAIL_DKIM_DOMAIN: "example.org", PAPERMAIL_DKIM_SELECTOR: "mail", PAPERMAIL_DKIM_KEY_FILE: keyFile });
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    expect((await p.cli(["send-digest"])).code).toBe(0);
    const mail = await server.parse(server.received[0]!);
    const signature = mail.headerLines.find((h) => h.key === "dkim-signature")!.line.replace(/\s+/g, "");
    expect(signature).toContain("d=example.org");
    expect(signature).toContain("s=mail");
    expect(signature.toLowerCase()).toMatch(/h=[^;]*list-unsubscribe:list-unsubscribe-post/);
    // Debian's python3-dkim checks the signature against the public key as DNS would publish it.
    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
    const verify = `import sys, dkim\nmsg = sys.stdin.buffer.read()\nok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: ${JSON.stringify(record)}.encode())\nprint("verified" if ok else "FAILED")\n`;
    const { execFileSync } = await import("node:child_process");
    expect(execFileSync("/usr/bin/python3", ["-c", verify], { input: server.received[0]!.raw }).toString().trim()).toBe("verified");
    // Half a DKIM configuration is a configuration error.
    expect((await runCli(["status"], { cwd: p.cwd, env: { PAPERMAIL_DKIM_DOMAIN: "example.org" } })).code).toBe(2);
  });

  it("sends nothing further to someone who unsubscribes while a digest is going out", async () => {
    let ctx: CommandContext | undefined;
    const server = await smtp({
      fault: () => "slow",
      onMessage: () => {
        const sub = findSubscriberByEmail(ctx!.db, "leaver@example.org")!;
        applyConsentEvent(ctx!.db, { id: sub.id }, { type: "unsubscribe" }, new Date().toISOString());
      },
    });
    const p = project(server.url);
    await p.cli(["subscribers", "add", "first@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    ctx = context(p.cwd, { ...p.env, PAPERMAIL_SMTP_POOL: "1" });
    addConfirmedReader(ctx.db, "leaver@example.org", new Date().toISOString());
    const result = await publishDigests(ctx, { retryUnknown: false });
    expect(result.digests[0]).toMatchObject({ sent: 1, skipped: 1 });
    expect([...server.countsByRecipient().keys()]).toEqual(["first@example.org"]);
  });

  it("after a sender is killed mid-digest, a second run sends the rest: one copy each, in-flight ones unknown", async () => {
    const { server, ...p } = await killedSend(1000, 300);
    const before = server.received.length;
    expect(before).toBeGreaterThanOrEqual(300);
    expect(before).toBeLessThan(1000);

    const again = await p.cli(["send-digest", "--json"]);
    const report = JSON.parse(again.stdout);
    const counts = server.countsByRecipient();
    const rows = ledger(p.db());
    expect(rows).toHaveLength(1000);
    for (const row of rows) {
      const copies = counts.get(row.email) ?? 0;
      if (row.status === "unknown") expect(copies).toBeLessThanOrEqual(1);
      else {
        expect(row.status).toBe("sent");
        expect(copies).toBe(1);
      }
    }
    const unknown = rows.filter((r) => r.status === "unknown").length;
    expect(unknown).toBeLessThanOrEqual(16); // at most the messages in flight: one per pooled connection (the default pool is 16)
    expect(report.recovered).toBe(unknown);
  }, 120_000);

  it("two send-digest processes started together send each recipient one copy", async () => {
    const server = await smtp();
    const p = project(server.url);
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(300));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const [a, b] = await Promise.all([p.cli(["send-digest", "--json"]), p.cli(["send-digest", "--json"])]);
    expect([a.code, b.code], `${a.stdout}${a.stderr}\n---\n${b.stdout}${b.stderr}`).toEqual([0, 0]);
    const counts = server.countsByRecipient();
    expect(counts.size).toBe(300);
    for (const n of counts.values()) expect(n).toBe(1);
    expect(ledger(p.db()).every((r) => r.status === "sent")).toBe(true);
  }, 60_000);
});

describe("subscribers", () => {
  it("adds, lists, removes and exports subscribers, refusing bad addresses clearly", async () => {
    const p = project();
    const add = await p.cli(["subscribers", "add", "Ada@Example.ORG", "--confirmed"]);
    expect(add.stdout).toContain("added     ada@example.org");
    for (const bad of ['"Ada" <ada@example.org>', "a@b.org, c@d.org", "ada@example.org\r\nBcc: x@y.org", `${"a".repeat(250)}@example.org`, "no-at-sign"]) {
      const r = await p.cli(["subscribers", "add", bad, "--confirmed"]);
      expect(r.code, bad).toBe(1);
      expect(r.stderr, bad).toContain("refused");
    }
    const list = JSON.parse((await p.cli(["subscribers", "list", "--json"])).stdout);
    expect(list.map((s: { email: string; status: string }) => [s.email, s.status])).toEqual([["ada@example.org", "active"]]);
    await p.cli(["subscribers", "remove", "ada@example.org"]);
    const csv = (await p.cli(["subscribers", "export"])).stdout;
    expect(csv.split("\n")[1]).toMatch(/^ada@example\.org,unsubscribed,/);
  });

  it("imports thousands of addresses from a CSV, reporting bad lines by number and keeping the good ones", async () => {
    const p = project();
    const lines = ["name,email", ...Array.from({ length: 3000 }, (_, i) => `Reader ${i},reader${i}@example.org`)];
    lines.splice(10, 0, "Broken,not-an-address");
    lines.splice(20, 0, 'Quoted,"x@y.org, z@w.org"');
    const r = await p.cli(["subscribers", "import", "-", "--confirmed"], lines.join("\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stdin:11:");
    expect(r.stderr).toContain("stdin:21:");
    expect(r.stdout).toContain("3000 added");
    expect(JSON.parse((await p.cli(["status", "--json"])).stdout).subscribers.active).toBe(3000);
  });

  it("adds an unconfirmed address as pending and sends it a confirmation email", async () => {
    const server = await smtp();
    const p = project(server.url);
    const r = await p.cli(["subscribers", "add", "new@example.org"]);
    expect(r.stdout).toContain("pending (confirmation sent)");
    expect(server.received).toHaveLength(1);
    expect((await server.parse(server.received[0]!)).text).toMatch(/https:\/\/papers\.example\.org\/confirm\/[A-Za-z0-9_-]{24}/);
    // Confirmed subscribers get digests; pending ones do not.
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    expect(JSON.parse((await p.cli(["send-digest", "--json"])).stdout).digests[0].recipients).toBe(0);
  });
});

describe("ingest and send stay separate", () => {
  it("a paper re-ingested after it was sent is not sent again", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    const ctx = context(p.cwd, p.env);
    await ingestFile(ctx, SAMPLE_FILES[0]!);
    await publishDigests(ctx, { retryUnknown: false });
    // A later capture of the same day repeats the 4 papers sent; the next day's page comes with it.
    await ingestFile(ctx, SAMPLE_FILES[1]!, { capturedAt: new Date(Date.now() + 86400_000) });
    await ingestFile(ctx, SAMPLE_FILES[2]!, { capturedAt: new Date(Date.now() + 86400_000) });
    const next = await publishDigests(ctx, { retryUnknown: false, maxPapers: 1000 });
    const { total } = ctx.db.prepare("SELECT count(*) AS total FROM papers").get() as { total: number };
    expect(next.digests[0]!.papers).toBe(total - 4);
  });
});
