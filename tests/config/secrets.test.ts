import { describe, expect, it } from "vitest";
import { findUnsubscribable } from "../../src/subscribers/subscribe.js";
import { context, outboxDigest } from "../helpers/project.js";

describe("secrets", () => {
  it("accepts links signed with the generated secret after PAPERMAIL_SECRET replaces it only when PAPERMAIL_SECRET_PREVIOUS lists it", async () => {
    const { p, eml: bytes } = await outboxDigest();
    const eml = bytes.toString("utf8");
    const token = /\/unsubscribe\/([A-Za-z0-9._-]+)>/.exec(eml)![1]!;
    const secret = "a-new-secret-set-by-the-operator-0123456789";
    // Only the operator's secrets sign links: a generated one nobody lists is dropped with the rotation.
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: secret }), token)).toBeUndefined();
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: secret, PAPERMAIL_SECRET_PREVIOUS: "generated" }), token)).toBeDefined();
    // And a later rotation that no longer lists it drops it for good.
    expect(findUnsubscribable(context(p.cwd, { ...p.env, PAPERMAIL_SECRET: "x".repeat(40), PAPERMAIL_SECRET_PREVIOUS: secret }), token)).toBeUndefined();
  });
});
