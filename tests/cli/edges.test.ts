import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { createProgress } from "../../src/util/progress.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { systemClock } from "../../src/util/time.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { CLI, runCli } from "../helpers/cli.js";
import { defer } from "../helpers/cleanup.js";
import { ABSTRACT, HEADER, project } from "../helpers/project.js";

describe("the dumps folder", () => {
  it("reports and skips a FIFO, a socket, a broken link and an unreadable folder; follows a linked dump; never blocks", async () => {
    const cwd = tempDir();
    const dumps = join(cwd, "dumps");
    mkdirSync(dumps);
    copyFileSync(SAMPLE_FILES[0]!, join(dumps, "a.txt"));
    symlinkSync(SAMPLE_FILES[2]!, join(dumps, "b-linked.txt"));
    symlinkSync(join(cwd, "missing.txt"), join(dumps, "c-dangling.txt"));
    execFileSync("mkfifo", [join(dumps, "d-fifo.txt")]);
    const socketServer = net.createServer().listen(join(dumps, "e.sock"));
    await new Promise((r) => socketServer.once("listening", r));
    mkdirSync(join(dumps, "f-locked"));
    writeFileSync(join(dumps, "f-locked", "x.txt"), "x");
    chmodSync(join(dumps, "f-locked"), 0o000);
    // Root reads every folder: as root, the run is made without the capabilities that
    // override file permissions (still root, so the clone may sit in a folder only root enters).
    const command = process.getuid?.() === 0 ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", process.execPath] : [process.execPath];
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(command[0]!, [...command.slice(1), CLI, "ingest", "--json"], {
        cwd,
        env: { PATH: process.env.PATH ?? "", HOME: cwd, TZ: "UTC", PAPERMAIL_DB: join(cwd, "var", "p.db"), PAPERMAIL_DUMPS_DIR: "dumps" },
      });
      // A run that blocked on the FIFO would never end: the test's timeout fails it, and this ends it.
      defer(() => child.kill("SIGKILL"));
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c) => (stdout += c));
      child.stderr.on("data", (c) => (stderr += c));
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
    socketServer.close();
    chmodSync(join(dumps, "f-locked"), 0o755);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.files.map((f: { path: string; status: string }) => [f.path, f.status])).toEqual([
      ["dumps/a.txt", "ingested"],
      ["dumps/b-linked.txt", "ingested"],
    ]);
    const skipped = Object.fromEntries(out.skipped.map((s: { path: string; reason: string }) => [s.path, s.reason]));
    expect(skipped["dumps/c-dangling.txt"]).toMatch(/symbolic link to nothing/);
    expect(skipped["dumps/d-fifo.txt"]).toMatch(/FIFO/);
    expect(skipped["dumps/e.sock"]).toMatch(/socket/);
    expect(skipped["dumps/f-locked"]).toMatch(/cannot be read/);
  }, 30_000);
});

describe("what the terminal shows", () => {
  it("neutralises control characters from stored text", async () => {
    const p = project();
    const db = openDatabase(join(p.cwd, "var", "papermail.db"));
    db.prepare(
      "INSERT INTO papers (key, slug, title, upvotes, captured_at, first_seen_at, last_seen_at, list_day) VALUES ('k', 'aaaaaaaaaaaaaaaa', ?, 1, '', '', '', '2024-12-12')",
    ).run("Evil \u001b]0;pwned\u0007\u001b[2J title \u009b31m");
    db.close();
    const r = await p.cli(["papers"]);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain("Evil \\x1b]0;pwned\\x07\\x1b[2J title \\x9b31m");
    const json = await p.cli(["papers", "--json"]);
    expect(json.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json.stdout)[0].title).toBe("Evil \u001b]0;pwned\u0007\u001b[2J title \u009b31m");
  });

  it("draws progress on any terminal width, with rounded rates, and moves within a large file", async () => {
    const written: string[] = [];
    for (const columns of [0, undefined, 5, 200]) {
      const stream = { isTTY: true, columns, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
      const progress = createProgress({ total: 3, enabled: true, unit: "items", stream });
      progress.update(1, "one \u001b[31m");
      progress.update(3, "three");
      progress.update(-5, "negative");
      progress.finish();
    }
    expect(written.join("")).not.toMatch(/\d\.\d+\/s/);
    expect(written.join("")).not.toContain("\u001b[31m");

    const blocks = Array.from({ length: 30_000 }, (_, i) => `Paper ${i}\n\n${ABSTRACT}`).join("\n\n");
    const file = join(tempDir(), "large.txt");
    writeFileSync(file, `${HEADER}${blocks}\n`);
    for (const parallelAboveBytes of [Infinity, 1]) {
      const seen: number[] = [];
      const db = openDatabase(join(tempDir(), "p.db"));
      await ingestFile({ db, clock: systemClock }, file, { parallelAboveBytes, onProgress: (b) => seen.push(b) });
      db.close();
      expect(new Set(seen).size).toBeGreaterThan(3);
      expect(Math.max(...seen)).toBeLessThanOrEqual(readFileSync(file).length);
    }
  }, 60_000);
});

describe("exit codes and loading", () => {
  it("exits 2 for a usage error in a nested command", async () => {
    const r = await runCli(["subscribers", "list", "--status", "foo"], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must be one of pending, active, unsubscribed/);
  });

  it("loads MJML only in commands that render, when they first do", async () => {
    const cwd = tempDir();
    const hook = join(cwd, "hook.cjs");
    writeFileSync(hook, `const M = require("module"); const load = M._load; M._load = function (r, ...a) { if (/^mjml/.test(r)) process.stderr.write("LOADED-MJML\\n"); return load.call(this, r, ...a); };`);
    const run = (args: string[]) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["--require", hook, CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd } });
        let stderr = "";
        child.stderr.on("data", (c) => (stderr += c));
        child.on("exit", () => resolve(stderr));
      });
    for (const args of [["--help"], ["status"], ["papers"], ["ingest", SAMPLE_FILES[0]!]]) expect(await run(args), args.join(" ")).not.toContain("LOADED-MJML");
    expect(await run(["send-digest", "--preview", join(cwd, "p.html")])).toContain("LOADED-MJML");
  }, 30_000);
});

describe("the outbox", () => {
  it("never leaves a truncated .eml when the disk fills up", async () => {
    const p = project();
    const outbox = join(p.cwd, "outbox");
    mkdirSync(outbox);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", outbox], { stdio: "ignore" });
    } catch {
      return; // no permission to mount a small file system here: nothing to fill
    }
    try {
      p.env.PAPERMAIL_OUTBOX_DIR = outbox;
      await p.cli(["subscribers", "import", "-", "--confirmed"], Array.from({ length: 20 }, (_, i) => `r${i}@example.org`).join("\n"));
      await p.cli(["ingest", SAMPLE_FILES[1]!]);
      const r = await p.cli(["send-digest", "--json"]);
      expect(r.code).toBe(1);
      const files = readdirSync(join(outbox, "1"));
      expect(files.length).toBeGreaterThan(0);
      expect(files.filter((f) => !f.endsWith(".eml"))).toEqual([]);
      for (const f of files) expect(readFileSync(join(outbox, "1", f), "latin1")).toMatch(/--\r\n$/);
      const report = JSON.parse(r.stdout).digests[0];
      expect(report.sent).toBe(files.length);
      expect(report.queued).toBe(20 - files.length);
      expect(report.stopped).toMatch(/cannot write to the outbox/);
    } finally {
      execFileSync("umount", [outbox]);
    }
    expect(existsSync(outbox)).toBe(true);
  });
});
