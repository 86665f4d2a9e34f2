import { describe, expect, it } from "vitest";
import { parseRelays } from "../../../src/config/relays.js";
import { createRelaySet } from "../../../src/deliver/transport/relay-set.js";
import { createSmtpMailer } from "../../../src/deliver/transport/smtp-mailer.js";
import { openDatabase } from "../../../src/store/db.js";
import { relayStates } from "../../../src/store/relays.js";
import { createMetrics } from "../../../src/metrics/registry.js";
import { join } from "node:path";
import { tempDir } from "../../helpers/files.js";
import { defer } from "../../helpers/cleanup.js";
import { downRelay } from "../../helpers/down-relay.js";
import { SAMPLE_FILES } from "../../helpers/files.js";
import { addressList, project, smtp } from "../../helpers/project.js";
import { waitFor } from "../../helpers/wait.js";

/*
 * Several relays in PAPERMAIL_SMTP_URL, in order of preference: a relay that is down,
 * refuses our sender or reaches its own daily limit is passed over, and every reader
 * still gets the digest exactly once.
 */

async function sendTo(url: string, readers = 12, env: Record<string, string> = {}) {
  const p = project(url);
  Object.assign(p.env, { PAPERMAIL_SMTP_POOL: "4", ...env });
  await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(readers));
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  const run = await p.cli(["send-digest", "--json"]);
  return { p, run, digest: JSON.parse(run.stdout).digests[0] };
}

const everyoneOnce = (counts: Map<string, number>, readers: number) => {
  expect(counts.size).toBe(readers);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
};

describe("several relays", () => {
  it("goes on through the second relay while the first is down, and says so in status", async () => {
    const down = await downRelay();
    const second = await smtp();
    const { p, digest } = await sendTo(`${down.url},${second.url}`);
    expect(digest).toMatchObject({ sent: 12, queued: 0, unknown: 0 });
    everyoneOnce(second.countsByRecipient(), 12);
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    const firstName = `127.0.0.1:${new URL(down.url).port}`;
    expect(status.relays).toEqual([
      expect.objectContaining({ relay: firstName, state: "down", lastError: expect.any(String) }),
      expect.objectContaining({ relay: `127.0.0.1:${second.port}`, state: "up" }),
    ]);
    expect((await p.cli(["status"])).stdout).toMatch(new RegExp(`relay +${firstName}: down until .*last error`));
  });

  it("passes over a relay that refuses our sender", async () => {
    const refusing = await smtp({ smtp: { onMailFrom: (_a, _s, cb) => cb(Object.assign(new Error("5.7.1 Sender address rejected: not owned by user"), { responseCode: 553 })) } });
    const second = await smtp();
    const { digest } = await sendTo(`${refusing.url},${second.url}`);
    expect(digest).toMatchObject({ sent: 12, failed: 0 });
    expect(refusing.received).toHaveLength(0);
    everyoneOnce(second.countsByRecipient(), 12);
  });

  it("uses a relay up to its own daily limit, then the next; with every relay at its limit the run pauses with the rest queued", async () => {
    const first = await smtp();
    const second = await smtp();
    const { p, digest } = await sendTo(`${first.url}?daily=5,${second.url}?daily=4`, 12);
    expect(first.received).toHaveLength(5);
    expect(second.received).toHaveLength(4);
    expect(digest).toMatchObject({ sent: 9, queued: 3, stopReason: "quota" });
    expect(digest.stopped).toMatch(/every relay is at its daily limit/);
    const counts = new Map([...first.countsByRecipient(), ...second.countsByRecipient()]);
    expect([...first.countsByRecipient().keys()].some((k) => second.countsByRecipient().has(k))).toBe(false);
    expect(counts.size).toBe(9);
    const status = JSON.parse((await p.cli(["status", "--json"])).stdout);
    expect(status.relays.map((r: { sentLast24h: number; dailyLimit: number }) => [r.sentLast24h, r.dailyLimit])).toEqual([
      [5, 5],
      [4, 4],
    ]);
  });

  it("never sends again through the second relay a message that may have reached the first", async () => {
    const first = await smtp({ fault: (to, n) => (to === "reader0@example.org" && n === 1 ? "drop-after-data" : undefined) });
    const second = await smtp();
    const { digest } = await sendTo(`${first.url},${second.url}`, 6, { PAPERMAIL_SMTP_POOL: "1" });
    expect(digest).toMatchObject({ unknown: 1 });
    expect(second.countsByRecipient().has("reader0@example.org")).toBe(false);
    const all = new Map([...first.countsByRecipient(), ...second.countsByRecipient()]);
    expect([...all.values()].every((n) => n === 1)).toBe(true);
  });

  it("comes back to the first relay once it recovers", async () => {
    const down = await downRelay();
    const first = await smtp();
    const second = await smtp();
    const relays = parseRelays(`${down.url},${second.url}`);
    if (!("relays" in relays)) throw new Error(relays.error);
    const set = createRelaySet(
      relays.relays.map((spec) => ({ spec, mailer: createSmtpMailer({ url: spec.url, poolSize: 1 }) })),
      undefined,
      undefined,
      50,
    );
    defer(() => set.close());
    const message = (n: number) => ({ from: "digest@example.org", to: `r${n}@example.org`, raw: [Buffer.from(`Subject: ${n}\r\n\r\nbody\r\n`)], name: String(n) });
    expect((await set.send(message(0))).status).toBe("sent");
    expect(second.received).toHaveLength(1);
    down.up(first.port);
    let n = 1;
    await waitFor(async () => (await set.send(message(n++))).status === "sent" && first.received.length > 0, "a message through the recovered first relay");
    expect(first.received.length + second.received.length).toBe(n);
  });

  it("follows the first relay through down, refusing our sender and over its quota: every reader once, and back to it each time", async () => {
    // One address for the first relay throughout, as a relay's is; behind it, servers that behave differently.
    const first = await downRelay();
    const refusing = await smtp({ smtp: { onMailFrom: (_a, _s, cb) => cb(Object.assign(new Error("5.7.1 Sender address rejected"), { responseCode: 553 })) } });
    const healthy = await smtp();
    const second = await smtp();
    const db = openDatabase(join(tempDir(), "relays.db"));
    defer(() => db.close());
    const relays = parseRelays(`${first.url}?daily=3,${second.url}`);
    if (!("relays" in relays)) throw new Error(relays.error);
    const set = createRelaySet(relays.relays.map((spec) => ({ spec, mailer: createSmtpMailer({ url: spec.url, poolSize: 1 }) })), db, undefined, 20);
    defer(() => set.close());
    let n = 0;
    const sendOne = async () => {
      const to = `r${n++}@example.org`;
      expect((await set.send({ from: "digest@example.org", to, raw: [Buffer.from(`Subject: ${to}\r\n\r\nbody\r\n`)], name: to })).status).toBe("sent");
    };
    const firstTook = () => healthy.received.length;
    // Down: everything goes through the second.
    for (let i = 0; i < 3; i++) await sendOne();
    expect(second.received).toHaveLength(3);
    // Back up, but refusing our sender: passed over again.
    first.up(refusing.port);
    await waitFor(async () => (await sendOne(), relayStates(db).some((r) => r.state === "down" && /Sender address rejected/.test(r.lastError ?? ""))), "the refusal recorded");
    expect(refusing.received).toHaveLength(0);
    // Mended: back to the first, up to its daily limit of 3, then the second again.
    first.up(healthy.port);
    await waitFor(async () => (await sendOne(), firstTook() > 0), "a message through the mended first relay");
    while (firstTook() < 3) await sendOne();
    const before = second.received.length;
    await sendOne();
    expect(second.received.length).toBe(before + 1);
    expect(relayStates(db).find((r) => r.relay === relays.relays[0]!.name)).toMatchObject({ state: "over-quota" });
    // /metrics says the same.
    const text = await createMetrics(db, { now: () => new Date() }, relays.relays).render();
    expect(text).toContain(`papermail_relay_up{relay="${relays.relays[0]!.name}",state="over-quota"} 0`);
    expect(text).toContain(`papermail_relay_up{relay="${relays.relays[1]!.name}",state="up"} 1`);
    expect(text).toContain(`papermail_relay_sent_24h{relay="${relays.relays[0]!.name}"} 3`);
    // Every reader exactly once, across every server.
    const all = [...healthy.received, ...second.received, ...refusing.received].flatMap((m) => m.to);
    expect(all).toHaveLength(n);
    expect(new Set(all).size).toBe(n);
  });

  it("refuses a relay list it cannot read, naming the relay and the parameter", async () => {
    const p = project("smtp://127.0.0.1:1?rat=5");
    const run = await p.cli(["status"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('PAPERMAIL_SMTP_URL: has an unknown parameter "rat" (papermail reads rate and daily');
    const two = project("smtp://127.0.0.1:1,smtp://127.0.0.1:2?daily=0");
    expect((await two.cli(["status"])).stderr).toContain("PAPERMAIL_SMTP_URL: relay 2 daily must be a whole number of messages, at least 1");
  });
});
