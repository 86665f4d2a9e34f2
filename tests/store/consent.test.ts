import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONFIRMATION_LIMITS, consentTableMarkdown, SUPPRESSED_STATUSES, type ConsentEventType, type ConsentStatus } from "../../src/model/consent.js";
import { applyConsentEvent } from "../../src/store/consent.js";
import { openDatabase } from "../../src/store/db.js";
import { ROOT, tempDir } from "../helpers/files.js";

const DAY = 86400_000;
const UNDO_WINDOW = 7 * DAY;

interface Row {
  id: number;
  status: ConsentStatus;
  held: number;
  unsubscribedBy: string | null;
  unsubscribedAt: string | null;
  reason: string | null;
  token: string | null;
  expires: string | null;
}

/** One step of a random history: an event, how much time passed before it, and its details. */
type Step = { type: ConsentEventType; advance: number; client: number; reason: string; undoOf: "latest" | "earlier" | "forged" };

const EVENTS: ConsentEventType[] = ["request", "confirm", "unsubscribe", "undo", "remove", "add", "reactivate", "suppress", "lift", "bounce", "complaint"];
const step: fc.Arbitrary<Step> = fc.record({
  type: fc.constantFrom(...EVENTS),
  // Mostly moments apart, sometimes hours, days or weeks: limits and windows both get crossed.
  advance: fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 2 * DAY }), fc.integer({ min: 0, max: 40 * DAY })),
  client: fc.integer({ min: 0, max: 3 }),
  reason: fc.constantFrom("a spam trap", "asked by phone", "legal request"),
  undoOf: fc.constantFrom("latest", "earlier", "forged"),
});

describe("a reader's consent has one owner", () => {
  it("the README shows the consent table as the code has it", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(consentTableMarkdown());
  });

  it("nothing but store/consent.ts writes a reader's status", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, name.name);
        if (name.isDirectory()) walk(path);
        else if (name.name.endsWith(".ts") && !path.endsWith(join("store", "consent.ts"))) {
          const text = readFileSync(path, "utf8");
          if (/UPDATE\s+subscribers\s+SET\s+(?:(?!WHERE)[^;`"])*\bstatus\s*=|INSERT\s+INTO\s+subscribers\b/i.test(text)) offenders.push(path.slice(ROOT.length + 1));
        }
      }
    };
    walk(join(ROOT, "src"));
    expect(offenders).toEqual([]);
  });

  it("holds its invariants over thousands of random histories of events", () => {
    const db = openDatabase(join(tempDir(), "consent.db"));
    let run = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        run++;
        const email = `reader${run}@example.org`;
        let now = Date.parse("2026-01-01T00:00:00Z") + run * 1000;
        const unsubscribes: string[] = [];
        const confirmations: number[] = [];
        const clientSends = new Map<string, number[]>();
        const read = () =>
          db
            .prepare(
              `SELECT id, status, suppressed_by = 'operator' AS held, unsubscribed_by AS unsubscribedBy, unsubscribed_at AS unsubscribedAt,
                      suppressed_reason AS reason, confirm_token_hash AS token, confirm_expires_at AS expires FROM subscribers WHERE email = ?`,
            )
            .get(email) as Row | undefined;
        for (const s of steps) {
          now += s.advance;
          const at = new Date(now).toISOString();
          const before = read();
          const target = before ? { id: before.id } : { email, source: "test" };
          const client = `client-${run}-${s.client}`;
          let confirmationClaimed = false;
          if (s.type === "confirm") {
            // A confirmation link works only while its token is alive: as the web's lookup has it.
            if (!before?.token || before.expires! <= at || before.held) continue;
            applyConsentEvent(db, target, { type: "confirm" }, at);
          } else if (s.type === "undo") {
            const unsubscribedAt = s.undoOf === "latest" ? (before?.unsubscribedAt ?? at) : s.undoOf === "earlier" ? (unsubscribes[0] ?? at) : new Date(now - 1234).toISOString();
            applyConsentEvent(db, target, { type: "undo", unsubscribedAt, windowMs: UNDO_WINDOW }, at);
            const after = read();
            // The undo works only for the reader's own latest unsubscribe, within the window, once.
            if (after?.status === "active" && before?.status !== "active") {
              expect(before?.status).toBe("unsubscribed");
              expect(before?.unsubscribedBy).toBe("reader");
              expect(Boolean(before?.held)).toBe(false);
              expect(unsubscribedAt).toBe(before?.unsubscribedAt);
              expect(now - Date.parse(unsubscribedAt)).toBeLessThanOrEqual(UNDO_WINDOW);
            }
          } else {
            const r = applyConsentEvent(db, target, { type: s.type }, at, {
              reason: s.type === "suppress" ? s.reason : undefined,
              confirmation: s.type === "request" ? { tokenHash: `t${run}-${now}`, expiresAt: new Date(now + 7 * DAY).toISOString(), client } : undefined,
            });
            confirmationClaimed = r.confirmation === "claimed";
          }
          const after = read();
          if (after?.status === "unsubscribed" && after.unsubscribedAt && after.unsubscribedAt !== before?.unsubscribedAt) unsubscribes.push(after.unsubscribedAt);

          // The operator's suppression is stronger than anything else; only a lift ends it.
          if (before?.held && s.type !== "lift") expect(after!.held).toBe(1);
          if (s.type === "suppress") expect([after!.held, after!.reason]).toEqual([1, s.reason]);
          if (after?.held) expect(SUPPRESSED_STATUSES).toContain(after.status);
          // Nothing a link or a stranger does changes a complaint, a bounce or a suppression.
          const strong = before && (before.held || before.status === "complained" || before.status === "bounced");
          if (strong && ["unsubscribe", "undo", "request"].includes(s.type)) expect([after!.status, after!.held]).toEqual([before.status, before.held]);
          // A complaint sticks until a fresh confirmation or the operator's own decision.
          if (before?.status === "complained" && !["confirm", "reactivate", "lift"].includes(s.type)) expect(after!.status).toBe("complained");
          // Becoming active needs a confirmation, the operator, or the reader's own undo.
          if (after?.status === "active" && before?.status !== "active") expect(["confirm", "add", "reactivate", "undo"]).toContain(s.type);
          if (s.type === "add" && before && before.status !== "pending") expect(after!.status).toBe(before.status);
          // A suppressed address gets no confirmation.
          if (before?.held) expect(confirmationClaimed).toBe(false);

          if (confirmationClaimed) {
            confirmations.push(now);
            clientSends.set(client, [...(clientSends.get(client) ?? []), now]);
          }
        }
        // Nobody can use papermail to flood a mailbox, whatever the sequence of events.
        for (const limit of CONFIRMATION_LIMITS.perAddress) {
          for (const t of confirmations) expect(confirmations.filter((u) => u > t - limit.windowMs && u <= t).length).toBeLessThanOrEqual(limit.count);
        }
        for (const sends of clientSends.values()) {
          for (const t of sends) expect(sends.filter((u) => u > t - CONFIRMATION_LIMITS.perClient.windowMs && u <= t).length).toBeLessThanOrEqual(CONFIRMATION_LIMITS.perClient.count);
        }
      }),
      { numRuns: 3000 },
    );
    db.close();
  });

  it("an unsubscribe on a complainer is recorded and changes nothing", () => {
    const db = openDatabase(join(tempDir(), "consent.db"));
    const at = "2026-02-01T00:00:00.000Z";
    const added = applyConsentEvent(db, { email: "ada@example.org", source: "test" }, { type: "add" }, at);
    applyConsentEvent(db, { id: added.subscriberId! }, { type: "complaint" }, at, { reason: "complaint (arf)" });
    const r = applyConsentEvent(db, { id: added.subscriberId! }, { type: "unsubscribe" }, at);
    expect(r).toMatchObject({ status: "complained", changed: false, why: "already complained" });
    const events = db.prepare("SELECT event, actor, from_status AS fromStatus, to_status AS toStatus, outcome FROM consent_events ORDER BY id").all();
    expect(events).toEqual([
      { event: "add", actor: "operator", fromStatus: "new", toStatus: "active", outcome: "changed" },
      { event: "complaint", actor: "mail system", fromStatus: "active", toStatus: "complained", outcome: "changed" },
      { event: "unsubscribe", actor: "reader", fromStatus: "complained", toStatus: "complained", outcome: "same" },
    ]);
    db.close();
  });
});
