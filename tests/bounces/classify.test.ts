import { describe, expect, it } from "vitest";
import { judgeFailure, judgeSmtpRefusal } from "../../src/bounces/classify.js";

describe("judging a plain 'user unknown'", () => {
  it("takes the generic wording of a missing mailbox as the recipient's own, hard, with or without a 5.1.x code", () => {
    for (const text of [
      "550 User unknown",
      "550 5.0.0 <ada@example.org>... User unknown",
      "550 5.5.0 <ada@example.org>... user unknown",
      "5.5.0 smtp; 550 Requested action not taken: mailbox unavailable",
      "550 5.0.0 ada@example.org does not exist",
      "554 5.0.0 Service unavailable; mail.local: unknown user: ada",
      "Unknown user: ada@example.com",
    ]) {
      expect(judgeFailure({ text }), text).toEqual({ reason: "userunknown", kind: "hard" });
    }
    expect(judgeSmtpRefusal("rcpt", 550, "550 User unknown")).toEqual({ reason: "userunknown", kind: "hard" });
  });

  it("keeps the real exceptions: after the data, under a policy or mailbox-status code, or a carrier's bare '550 : User unknown'", () => {
    expect(judgeFailure({ text: "550 User unknown (in reply to end of DATA command)" }).kind).toBe("sender");
    expect(judgeFailure({ text: "550 5.7.1 <ada@example.org>... User unknown" }).kind).toBe("sender");
    expect(judgeFailure({ text: "550 5.2.1 <ada@example.org>... User Unknown" }).kind).toBe("sender");
    expect(judgeFailure({ text: "550 : User unknown" }).kind).toBe("sender");
    // A temporary code is never hard.
    expect(judgeFailure({ text: "450 4.0.0 User unknown" }).kind).toBe("soft");
  });
});
