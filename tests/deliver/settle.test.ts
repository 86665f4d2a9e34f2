import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, newTally, NO_ANSWER_LIMIT, SENDER_IN_A_ROW, settle, type SettleInput } from "../../src/deliver/settle.js";
import type { SendOutcome } from "../../src/deliver/transport/mailer.js";

const at = new Date("2026-12-04T08:00:00.000Z");
const input = (outcome: SendOutcome, over: Partial<SettleInput> = {}): SettleInput => ({
  digestId: 7,
  row: { subscriberId: 1, email: "ada@example.org", attempts: 1 },
  outcome,
  at,
  frozenAt: at.getTime() - 3600_000,
  retry: DEFAULT_RETRY,
  policy: { softLimit: 3, softDays: 15 },
  relay: "smtp://relay.example.org:587",
  ...over,
});

describe("settle: what one outcome does to its ledger row and to the run", () => {
  // outcome -> the row's new status, whether the attempt is given back, whose side refused, and the stop it calls for.
  const table: Array<[string, SendOutcome, Partial<SettleInput>, { status: string; refund?: boolean; refusal?: string; bounce?: string; stop?: string; next?: boolean }]> = [
    ["250: sent", { status: "sent", response: "250 ok" }, {}, { status: "sent" }],
    ["5.1.1 at RCPT TO: the reader's hard bounce", { status: "failed", error: "550 5.1.1 User unknown", code: 550, stage: "rcpt" }, {}, { status: "failed", refusal: "hard", bounce: "hard" }],
    ["5.2.2 at RCPT TO: a soft bounce", { status: "failed", error: "552 5.2.2 Mailbox full", code: 552, stage: "rcpt" }, {}, { status: "failed", refusal: "soft", bounce: "soft" }],
    ["blocklisted at RCPT TO: our side, the reader stays", { status: "failed", error: "550 5.7.1 blocked using Spamhaus", code: 550, stage: "rcpt" }, {}, { status: "failed", refusal: "sender", bounce: "sender" }],
    ["5xx to MAIL FROM: everyone waits, the run stops", { status: "failed", error: "550 5.7.1 Sender address rejected", code: 550, stage: "mail" }, {}, { status: "queued", refund: true, stop: "sender" }],
    ["5xx after the data: the message, for everyone", { status: "failed", error: "554 5.7.1 Message content rejected", code: 554, stage: "end-of-data" }, {}, { status: "queued", refund: true, stop: "sender" }],
    ["this relay cannot carry it (SMTPUTF8)", { status: "failed", error: "no SMTPUTF8", relay: true }, {}, { status: "failed", refusal: "sender" }],
    ["no answer after the data: may have arrived", { status: "unknown", error: "connection closed" }, {}, { status: "unknown" }],
    ["4xx: queued for later", { status: "retry", error: "450 mailbox busy", code: 450, cause: "temporary" }, {}, { status: "queued", next: true }],
    ["4xx past the give-up time: failed", { status: "retry", error: "450 mailbox busy", code: 450, cause: "temporary" }, { frozenAt: at.getTime() - 4 * 86400_000 }, { status: "failed" }],
    ["throttled: back in the queue, the pacing slows", { status: "retry", error: "421 slow down", code: 421, cause: "throttled" }, { throttleGaveUp: false }, { status: "queued", refund: true }],
    ["throttled and the pacing gives up: stop", { status: "retry", error: "421 slow down", code: 421, cause: "throttled" }, { throttleGaveUp: true }, { status: "queued", refund: true, stop: "throttled" }],
    ["our settings are wrong: stop at once", { status: "retry", error: "535 authentication failed", code: 535, cause: "config" }, {}, { status: "queued", refund: true, stop: "config" }],
    ["no connection: back in the queue", { status: "retry", error: "ECONNREFUSED", cause: "unreachable" }, {}, { status: "queued", refund: true }],
  ];
  for (const [name, outcome, over, want] of table) {
    it(name, () => {
      const { settlement, stop } = settle(newTally(), input(outcome, over));
      expect(settlement.status).toBe(want.status);
      expect(Boolean(settlement.refund)).toBe(Boolean(want.refund));
      expect(settlement.refusal).toBe(want.refusal);
      expect(settlement.bounce?.event.kind).toBe(want.bounce);
      expect(stop?.reason).toBe(want.stop);
      expect(Boolean(settlement.nextAttemptAt)).toBe(Boolean(want.next));
    });
  }

  it("stops after NO_ANSWER_LIMIT unreachable messages in a row, and a sent one resets the count", () => {
    const tally = newTally();
    const refused = input({ status: "retry", error: "ECONNREFUSED", cause: "unreachable" });
    for (let i = 1; i < NO_ANSWER_LIMIT; i++) expect(settle(tally, refused).stop).toBeUndefined();
    settle(tally, input({ status: "sent", response: "250" }));
    for (let i = 1; i < NO_ANSWER_LIMIT; i++) expect(settle(tally, refused).stop).toBeUndefined();
    expect(settle(tally, refused).stop?.reason).toBe("unreachable");
  });

  it("stops after SENDER_IN_A_ROW refusals of our side in a row, and counts them per domain", () => {
    const tally = newTally();
    const blocked = (email: string) => input({ status: "failed", error: "550 5.7.1 blocked using Spamhaus", code: 550, stage: "rcpt" }, { row: { subscriberId: 1, email, attempts: 1 } });
    for (let i = 1; i < SENDER_IN_A_ROW; i++) expect(settle(tally, blocked(`r${i}@a.example`)).stop).toBeUndefined();
    expect(settle(tally, blocked("last@b.example")).stop?.message).toMatch(/^5 refusals of our sender in a row, the last from b\.example/);
    expect(tally.domains.get("a.example")).toMatchObject({ count: 4, attempted: 4 });
  });

  it("waits longer after each temporary failure", () => {
    const next = (attempts: number) => Date.parse(settle(newTally(), input({ status: "retry", error: "450", cause: "temporary" }, { row: { subscriberId: 1, email: "a@x.example", attempts } })).settlement.nextAttemptAt!) - at.getTime();
    expect([1, 2, 3, 4].map(next)).toEqual(DEFAULT_RETRY.delaysMs.slice(0, 4));
  });
});
