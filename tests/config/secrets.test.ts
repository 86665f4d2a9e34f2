import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findUnsubscribable } from "../../src/subscribers/subscribe.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { context, project } from "../helpers/project.js";

describe("secrets", () => {
  it("accepts links signed with the generated secret after PAPERMAIL_SECRET replaces it only when PAPERMAIL_SECRET_PREVIOUS lists it", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    await p.cli(["send-digest"]);
    const eml = readFileSync(join(p.cwd, "var", "outbox", "1", "0000001-ada@example.org.eml"), "utf8");
    const token = /\/unsubscribe\/([A-Za-z0-9._-]+)>/.exec(eml)![1]!;
    const secret = "a-new-secret-set-by-the-operator-0123456789";
    // Only the operator's secrets sign links: a generated one nobody lists is dropped with the rotation.
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: secret }), token)).toBeUndefined();
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: secret, PAPERMAIL_SECRET_PREVIOUS: "generated" }), token)).toBeDefined();
    // And a later rotation that no longer lists it drops it for good.
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: "x".repeat(40), PAPERMAIL_SECRET_PREVIOUS: secret }), token)).toBeUndefined();
  });
});
