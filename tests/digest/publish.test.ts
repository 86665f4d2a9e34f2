import { describe, expect, it } from "vitest";
import { SAMPLE_FILES } from "../helpers/files.js";
import { project, smtp } from "../helpers/project.js";

describe("publishing", () => {
  it("a configured installation refuses to publish without PAPERMAIL_PUBLIC_URL, naming it", async () => {
    const server = await smtp();
    const p = project(server.url);
    delete (p.env as Record<string, string>).PAPERMAIL_PUBLIC_URL;
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["ingest", SAMPLE_FILES[0]!]);
    const r = await p.cli(["send-digest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PAPERMAIL_PUBLIC_URL: not set; every link in a digest \(unsubscribe included\) would point at http:\/\/localhost:8080/);
    expect(server.received).toHaveLength(0);
    expect((await p.cli(["status"])).stdout).toMatch(/^public URL +http:\/\/localhost:8080 \(PAPERMAIL_PUBLIC_URL not set: digests are not published until it is\)$/m);
    expect((await p.cli(["status"])).stdout).toMatch(/^mail +SMTP smtp:\/\/127\.0\.0\.1:\d+$/m);
  });
});
