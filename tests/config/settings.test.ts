import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { SETTINGS, shownDefault } from "../../src/config/settings.js";
import { ROOT, tempDir } from "../helpers/files.js";
import { runCli } from "../helpers/cli.js";

describe("every setting is written once", () => {
  it("the README's settings table names every setting, and no other", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## How it works"));
    const named = new Set([...table.matchAll(/`(PAPERMAIL_[A-Z0-9_]+)`/g)].map((m) => m[1]));
    expect([...named].sort()).toEqual(SETTINGS.map((s) => s.name).sort());
  });

  it("a default is read through the same check as the variable would be", () => {
    const config = loadConfig({}, tempDir());
    // Paths are resolved against the working directory afterwards: compared as given.
    const resolved = new Set(["dbPath", "dumpsDir", "outboxDir", "publicUrl"]);
    for (const s of SETTINGS) {
      if (!("default" in s) || s.default === "" || resolved.has(s.key)) continue;
      expect(config[s.key as keyof typeof config], s.name).toEqual(s.schema.parse(s.default));
      expect(shownDefault(s)).toBe(s.default);
    }
  });

  it("the secrets to redact come from the settings marked secret: values, listed ones and a URL's password", () => {
    const config = loadConfig(
      {
        PAPERMAIL_SECRET: "s".repeat(40),
        PAPERMAIL_SECRET_PREVIOUS: `generated,${"p".repeat(40)}`,
        PAPERMAIL_SMTP_URL: "smtps://user:pa%24%24word@mail.example.org",
        PAPERMAIL_METRICS_TOKEN: "t".repeat(20),
      },
      tempDir(),
    );
    expect(config.secrets.sort()).toEqual(["p".repeat(40), "pa$$word", "pa%24%24word", "s".repeat(40), "t".repeat(20)].sort());
  });

  it("never repeats a secret's value in an error", () => {
    expect(() => loadConfig({ PAPERMAIL_SECRET: "short-secret" }, tempDir())).toThrow(/^PAPERMAIL_SECRET: must be at least 32 characters$/);
    expect(() => loadConfig({ PAPERMAIL_PORT: "eighty" }, tempDir())).toThrow('PAPERMAIL_PORT: must be a whole number (got "eighty")');
  });
});

describe("unknown settings", () => {
  it("suggests the setting a typo meant, transpositions included", async () => {
    const r = await runCli(["status"], { cwd: tempDir(), env: { PAPERMAIL_PROT: "8080" } });
    expect(r.stderr).toMatch(/PAPERMAIL_PROT is not a papermail setting and is ignored \(did you mean PAPERMAIL_PORT\?\)/);
  });
});
