import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { killedSend, ledger } from "../helpers/project.js";

describe("a sender killed mid-digest", () => {
  it("leaves unknown only the messages whose data had started; the rest are sent by the next run, one copy each", async () => {
    // Every recipient takes 100-500 ms to be accepted: at any moment most sessions wait before their data.
    const { server, ...p } = await killedSend(200, 40, () => "slow-rcpt");
    const report = JSON.parse((await p.cli(["send-digest", "--json"])).stdout);
    const counts = server.countsByRecipient();
    const rows = ledger(p.db());
    const unknown = rows.filter((r) => r.status === "unknown");
    // Sixteen sessions were busy at the kill; only a message whose data was on its way may have arrived.
    expect(unknown.length).toBeLessThanOrEqual(4);
    expect(report.recovered).toBe(unknown.length);
    for (const row of rows.filter((r) => r.status !== "unknown")) {
      expect(row.status).toBe("sent");
      expect(counts.get(row.email)).toBe(1);
    }
    expect(readdirSync(join(p.cwd, "var", "sending"))).toEqual([]);
  }, 120_000);
});
