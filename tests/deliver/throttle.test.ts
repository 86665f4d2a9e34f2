import { describe, expect, it } from "vitest";
import { SAMPLE_FILES } from "../helpers/files.js";
import { addressList, frozenDigest, project, smtp } from "../helpers/project.js";

describe("sending through a throttling storm", () => {
  it("counts a storm heard by every connection as one event, and delivers everyone in the same run", async () => {
    // Every message meets "454 Throttling failure" for the first 1.5 s, as a relay's rate limit does.
    let stormUntil = 0;
    const server = await smtp({ fault: () => (Date.now() < stormUntil ? "454" : undefined) });
    const p = project(server.url);
    await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(40));
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const { deliverDigest } = await import("../../src/deliver/engine.js");
    const { ctx, id, mailer } = await frozenDigest(p);
    // Sessions open before the storm: all eight connections hear its first answers at once.
    stormUntil = Date.now() + 1500;
    const report = await deliverDigest({ ...ctx, mailer, secret: "s".repeat(32), owner: "test:1:1" }, id, { concurrency: 8, throttle: { firstPauseMs: 300, limit: 4 } });
    await mailer.close();
    expect(report).toMatchObject({ sent: 40, failed: 0, unknown: 0, complete: true });
    expect(report.stopped).toBeUndefined();
  });
});
