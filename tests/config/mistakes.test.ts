import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";
import { startSite } from "../helpers/site.js";

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
