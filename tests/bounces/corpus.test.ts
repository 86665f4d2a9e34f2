import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBounceReport } from "../../src/bounces/report/read.js";
import { REASONS, type BounceKind, type BounceReason } from "../../src/model/bounce.js";
import { FIXTURES, SAMPLE_FILES } from "../helpers/files.js";
import { addressList, project, smtp } from "../helpers/project.js";

const DIR = join(FIXTURES, "bounces", "sisimai");
const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as Record<string, Array<{ status: string | null; reason: string; feedback?: string }>>;
const overrides = JSON.parse(readFileSync(join(DIR, "overrides.json"), "utf8")) as Record<string, string>;
const names = Object.keys(expected).sort();

/** The kind a label means: its reason's kind; a temporary status is never hard; feedback by its type. */
function labelKind(label: { status: string | null; reason: string; feedback?: string }): BounceKind {
  if (label.reason === "feedback") return ["abuse", "opt-out", "fraud"].includes(label.feedback ?? "") ? "complaint" : label.feedback === "auth-failure" ? "sender" : "not-a-bounce";
  const kind = REASONS[label.reason as BounceReason] ?? "soft";
  return kind === "hard" && label.status?.startsWith("4") ? "soft" : kind;
}

/** Hard and complaint: the kinds that suppress a reader. */
const SUPPRESSING = new Set<BounceKind>(["hard", "complaint"]);

describe("bounce judgement on a real corpus (577 messages from several dozen MTAs and providers)", () => {
  const judged = names.map((name) => {
    const report = readBounceReport(readFileSync(join(DIR, name)));
    return { name, kinds: new Set(report.recognised ? report.entries.map((e) => e.kind) : []), want: new Set(expected[name]!.map(labelKind)), report };
  });

  it("judges no message hard or a complaint unless it is the recipient's permanent failure or complaint", () => {
    const wrong = judged
      .filter((j) => !(j.name in overrides))
      .filter((j) => [...j.kinds].some((k) => SUPPRESSING.has(k) && !j.want.has(k)))
      .map((j) => `${j.name}: ${[...j.kinds].join(",")} (label ${[...j.want].join(",")})`);
    expect(wrong).toEqual([]);
    // The overrides stay few, each with its reason in overrides.json: words that say the
    // mailbox does not exist, labelled otherwise (mostly the reference engine's 5.0.910,
    // its guess for filter appliances that do not name the refused command).
    expect(Object.keys(overrides).length).toBeLessThanOrEqual(15);
  });

  it("recognises at least 95% of the genuine hard bounces and 90% of the complaints", () => {
    for (const kind of ["hard", "complaint"] as const) {
      const genuine = judged.filter((j) => j.want.has(kind));
      const found = genuine.filter((j) => j.kinds.has(kind));
      expect(genuine.length, kind).toBeGreaterThan(10);
      expect(found.length / genuine.length, `${kind}: ${found.length} of ${genuine.length}`).toBeGreaterThanOrEqual(kind === "hard" ? 0.95 : 0.9);
    }
  });

  it("calls delivery notices, delay warnings and auto-replies not-a-bounce", () => {
    for (const j of judged.filter((x) => [...x.want].every((k) => k === "not-a-bounce"))) {
      expect([...j.kinds].filter((k) => k !== "not-a-bounce"), j.name).toEqual([]);
    }
  });

  it("suppresses only the readers whose mail came back as their own permanent failure or complaint, when each message proves it answers their copy", async () => {
    // One reader per message, each mailed a digest with their own VERP address; every corpus
    // message is then delivered to one reader's VERP address, as a mail server would return it.
    const server = await smtp();
    const p = project(server.url);
    Object.assign(p.env, { PAPERMAIL_BOUNCE_ADDRESS: "bounces@example.org", PAPERMAIL_SECRET: "s".repeat(40) });
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(names.length, "r"));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    expect((await p.cli(["send-digest"])).code).toBe(0);
    const verp = new Map(server.received.map((m) => [m.to[0]!, m.from]));
    const folder = join(p.cwd, "returned");
    mkdirSync(folder);
    names.forEach((name, i) => writeFileSync(join(folder, name), `Delivered-To: ${verp.get(`r${i}@example.org`)}\n${readFileSync(join(DIR, name), "latin1")}`, "latin1"));
    const r = await p.cli(["bounces", "ingest", folder, "--json"]);
    const outcomes = JSON.parse(r.stdout).messages as Array<{ origin: string; status: string; entries: Array<{ effect: string; proof: string | null }> }>;
    expect(outcomes).toHaveLength(names.length);
    const status = new Map((p.db().prepare("SELECT email, status FROM subscribers").all() as Array<{ email: string; status: string }>).map((s) => [s.email, s.status]));
    const wrongly: string[] = [];
    names.forEach((name, i) => {
      const now = status.get(`r${i}@example.org`);
      const want = new Set(expected[name]!.map(labelKind));
      if ((now === "bounced" && !want.has("hard") && !(name in overrides)) || (now === "complained" && !want.has("complaint"))) wrongly.push(`${name}: ${now}`);
    });
    expect(wrongly).toEqual([]);
    // And VERP proved each of them: the genuine ones did suppress their reader.
    const suppressed = names.filter((_, i) => ["bounced", "complained"].includes(status.get(`r${i}@example.org`)!)).length;
    expect(suppressed).toBeGreaterThan(150);
    expect(outcomes.filter((o) => o.status === "applied").every((o) => o.entries.some((e) => e.proof === "verp"))).toBe(true);
  }, 120_000);
});
