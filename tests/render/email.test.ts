import { readFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { SAMPLE_FILES } from "../helpers/files.js";
import { project } from "../helpers/project.js";

describe("the email's images", () => {
  it("loads nothing from another server in an email: every remote URL is a link", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[1]!]);
    await p.cli(["send-digest"]);
    const mail = await simpleParser(readFileSync(join(p.cwd, "var", "outbox", "1", "0000001-ada@example.org.eml")));
    const html = String(mail.html);
    expect(html).not.toMatch(/fonts\.googleapis|@import|<link\b/i);
    const remote = [...html.matchAll(/(\w[\w-]*)\s*=\s*"(https?:[^"]*)"|url\(\s*['"]?(https?:[^)'"]*)/gi)];
    expect(remote.length).toBeGreaterThan(10);
    // A namespace name is never loaded; anything else remote must be a link.
    for (const m of remote.filter((x) => !x[1]?.toLowerCase().startsWith("xmlns"))) expect(m[1]?.toLowerCase()).toBe("href");
  });
});
