import { setTimeout as sleep } from "node:timers/promises";
import type { RelaySpec } from "../../config/relays.js";
import type { Db } from "../../store/db.js";
import { setRelayState, type RelayCondition } from "../../store/relays.js";
import { countAgainstQuota, giveBackQuotaSlot, quotaResumesAt } from "../../store/send-quota.js";
import type { Mailer, OutgoingMessage, SendOutcome } from "./mailer.js";

/** How long a relay is passed over after it failed us, doubling while it keeps failing. */
const FIRST_PAUSE_MS = 30_000;
const LONGEST_PAUSE_MS = 10 * 60_000;
/** Answers asking us to slow down in a row that make a storm: the relay is passed over for a while. */
const THROTTLE_STORM = 5;

/** What one relay's failure says about the relay itself (not about a reader): pass over it and try the next. */
function relayFault(outcome: SendOutcome): string | undefined {
  if (outcome.status === "retry" && (outcome.cause === "unreachable" || outcome.cause === "connection" || outcome.cause === "config")) return outcome.error;
  // MAIL FROM refused, or a message this relay cannot carry: refused before any data went.
  if (outcome.status === "failed" && (outcome.stage === "mail" || outcome.relay)) return outcome.error;
  return undefined;
}

interface Relay {
  spec: RelaySpec;
  mailer: Mailer;
  condition: RelayCondition;
  /** Passed over until (epoch ms). */
  until: number;
  pauseMs: number;
  throttledInARow: number;
  /** The next free slot of its own rate (epoch ms). */
  nextSlot: number;
}

/**
 * Several relays as one mailer, in order of preference: each message goes through the
 * first relay that is up and within its own limits. A relay that refuses connections,
 * our login or our sender, answers a storm of "slow down", or reaches its daily limit is
 * passed over for a while (30 s, doubling to 10 min; the quota until it frees) and the
 * message goes on through the next. Only outcomes that prove the message did not reach
 * a relay move it on: one whose data may have arrived (unknown) is reported as it is,
 * never sent again elsewhere. The first relay is tried again once its pause is over.
 */
export function createRelaySet(
  relays: Array<{ spec: RelaySpec; mailer: Mailer }>,
  db: Db | undefined,
  log: (line: string) => void = () => undefined,
  /** The first pause after a failure (tests shorten it). */
  firstPauseMs = FIRST_PAUSE_MS,
): Mailer {
  const set: Relay[] = relays.map((r) => ({ ...r, condition: "up", until: 0, pauseMs: firstPauseMs, throttledInARow: 0, nextSlot: 0 }));
  const record = (relay: Relay, condition: RelayCondition, error?: string) => {
    const changed = relay.condition !== condition;
    relay.condition = condition;
    if (changed && condition !== "up") log(`relay ${relay.spec.name} ${condition} until ${new Date(relay.until).toISOString()}${error ? `: ${error}` : ""}`);
    if (changed && condition === "up") log(`relay ${relay.spec.name} is back`);
    if (db && (changed || error)) setRelayState(db, relay.spec.name, condition, new Date().toISOString(), { until: condition === "up" ? undefined : new Date(relay.until).toISOString(), error });
  };
  const passOver = (relay: Relay, error: string) => {
    relay.until = Date.now() + relay.pauseMs;
    relay.pauseMs = Math.min(relay.pauseMs * 2, LONGEST_PAUSE_MS);
    record(relay, "down", error);
  };

  async function send(message: OutgoingMessage): Promise<SendOutcome> {
    let last: SendOutcome | undefined;
    let quotaUntil = Infinity;
    for (const relay of set) {
      const now = Date.now();
      if (relay.condition !== "up" && now < relay.until) {
        if (relay.condition === "over-quota") quotaUntil = Math.min(quotaUntil, relay.until);
        continue;
      }
      const frees = relay.spec.daily !== undefined && db ? quotaResumesAt(db, relay.spec.daily, now, relay.spec.name) : undefined;
      if (frees !== undefined) {
        relay.until = Date.parse(frees);
        quotaUntil = Math.min(quotaUntil, relay.until);
        record(relay, "over-quota", `its daily limit of ${relay.spec.daily} messages is reached`);
        continue;
      }
      if (relay.spec.rate !== undefined) {
        const slot = Math.max(now, relay.nextSlot);
        relay.nextSlot = slot + 1000 / relay.spec.rate;
        if (slot > now) await sleep(slot - now);
      }
      if (relay.spec.daily !== undefined && db) countAgainstQuota(db, Date.now(), relay.spec.name);
      const outcome = await relay.mailer.send(message);
      const tookIt = outcome.status === "sent" || outcome.status === "unknown";
      if (!tookIt && relay.spec.daily !== undefined && db) giveBackQuotaSlot(db, relay.spec.name);
      const fault = relayFault(outcome);
      if (fault !== undefined) {
        passOver(relay, fault);
        last = outcome;
        continue;
      }
      if (outcome.status === "retry" && outcome.cause === "throttled") {
        if (++relay.throttledInARow >= THROTTLE_STORM) {
          passOver(relay, `${relay.throttledInARow} answers in a row asked to slow down: ${outcome.error}`);
          relay.throttledInARow = 0;
          last = outcome;
          continue;
        }
        return outcome;
      }
      relay.throttledInARow = 0;
      if (outcome.status === "sent") {
        relay.pauseMs = firstPauseMs;
        if (relay.condition !== "up") record(relay, "up");
      }
      return outcome;
    }
    if (!last && quotaUntil !== Infinity) {
      return { status: "retry", cause: "quota", until: new Date(quotaUntil).toISOString(), error: `every relay is at its daily limit (${set.map((r) => `${r.spec.name}: ${r.spec.daily ?? "no"} a day`).join(", ")})` };
    }
    const reasons = set.map((r) => `${r.spec.name} ${r.condition}`).join(", ");
    if (last) return last.status === "retry" ? { ...last, error: `${last.error} (every relay failed: ${reasons})` } : last;
    return { status: "retry", cause: "unreachable", error: `no relay is up: ${reasons}` };
  }

  return {
    description: set.map((r) => r.mailer.description).join(", then "),
    send,
    async close() {
      await Promise.all(set.map((r) => r.mailer.close()));
    },
  };
}
