import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.js";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { findSubscriberByEmail } from "../../src/store/subscribers.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";
import { applyJournalledUnsubscribes, journalDir, journalUnsubscribe } from "../../src/subscribers/unsubscribe-journal.js";
import { tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import Database from "better-sqlite3";
import { resolveSecret } from "../../src/store/settings.js";
import { unsubscribeToken } from "../../src/util/tokens.js";
import { startSite } from "../helpers/site.js";

describe("the unsubscribe journal", () => {
  it("moves a bad entry aside with the reason and still applies the good ones; a link to a FIFO never blocks", () => {
    const cwd = tempDir();
    const db = openDatabase(join(cwd, "var", "papermail.db"));
    const at = new Date().toISOString();
    const ada = addConfirmedReader(db, "ada@example.org", at).subscriber;
    const bob = addConfirmedReader(db, "bob@example.org", at).subscriber;
    const dir = journalDir(db.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "0001-null.json"), "null");
    writeFileSync(join(dir, "0002-shape.json"), JSON.stringify({ subscriberId: "1; DROP TABLE subscribers", at }));
    writeFileSync(join(dir, "0003-text.json"), "not json at all");
    execFileSync("mkfifo", [join(dir, "fifo")]);
    symlinkSync(join(dir, "fifo"), join(dir, "0004-link.json"));
    mkdirSync(join(dir, "0005-folder.json"));
    journalUnsubscribe(dir, ada.id, at);
    journalUnsubscribe(dir, bob.id, at);
    const logs: string[] = [];
    expect(applyJournalledUnsubscribes(db, dir, (l) => logs.push(l))).toBe(2);
    expect(findSubscriberByEmail(db, "ada@example.org")!.status).toBe("unsubscribed");
    expect(findSubscriberByEmail(db, "bob@example.org")!.status).toBe("unsubscribed");
    expect(readdirSync(join(dir, "rejected")).sort()).toEqual(["0001-null.json", "0002-shape.json", "0003-text.json", "0004-link.json"]);
    expect(logs.join("\n")).toMatch(/0001-null\.json is not an unsubscribe entry/);
    expect(logs.join("\n")).toMatch(/0004-link\.json cannot be opened \(a symbolic link\)/);
    expect(existsSync(join(dir, "0005-folder.json"))).toBe(true);
    db.close();
  });

  it("a bad entry does not stop a command from starting", async () => {
    const cwd = tempDir();
    const dir = join(cwd, "var", "unsubscribes");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "1-1-aa.json"), "null");
    const r = await runCli(["status"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/1-1-aa\.json is not an unsubscribe entry/);
  });
});

describe("unsubscribes while the database is busy", () => {
  it("records a one-click unsubscribe while another process holds the write lock, and applies it once the lock is free", async () => {
    const site = await startSite();
    addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
    const id = (site.ctx.db.prepare("SELECT id FROM subscribers WHERE email = 'ada@example.org'").get() as { id: number }).id;
    const token = unsubscribeToken(resolveSecret(site.ctx.db, site.ctx.config.secret), 1, id);
    // A long ingest in another process: it holds the write lock for longer than the answer may wait.
    const other = new Database(site.ctx.config.dbPath);
    other.exec("BEGIN IMMEDIATE");
    const r = await site.post(`/unsubscribe/${token}`, "List-Unsubscribe=One-Click");
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("Unsubscribed.\n");
    expect(readdirSync(journalDir(site.ctx.config.dbPath)).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    other.exec("COMMIT");
    other.close();
    const status = () => (site.ctx.db.prepare("SELECT status FROM subscribers WHERE id = ?").get(id) as { status: string }).status;
    await waitFor(() => status() === "unsubscribed", "the journalled unsubscribe to be applied");
    expect(readdirSync(journalDir(site.ctx.config.dbPath)).filter((f) => f.endsWith(".json"))).toHaveLength(0);
    expect(site.logs.some((l) => /applied 1 unsubscribe that arrived while the database was busy/.test(l))).toBe(true);
  });
});
