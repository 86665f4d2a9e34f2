import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { SAMPLE_FILES } from "../helpers/files.js";
import { outboxDigest } from "../helpers/project.js";

describe("the email's images", () => {
  it("loads nothing from another server in an email: every remote URL is a link", async () => {
    const { eml } = await outboxDigest(SAMPLE_FILES[1]!);
    const mail = await simpleParser(eml);
    const html = String(mail.html);
    expect(html).not.toMatch(/fonts\.googleapis|@import|<link\b/i);
    const remote = [...html.matchAll(/(\w[\w-]*)\s*=\s*"(https?:[^"]*)"|url\(\s*['"]?(https?:[^)'"]*)/gi)];
    expect(remote.length).toBeGreaterThan(10);
    // A namespace name is never loaded; anything else remote must be a link.
    for (const m of remote.filter((x) => !x[1]?.toLowerCase().startsWith("xmlns"))) expect(m[1]?.toLowerCase()).toBe("href");
  });
});
