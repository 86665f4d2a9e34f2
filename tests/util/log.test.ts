import { describe, expect, it } from "vitest";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { startServe } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

describe("structured logs", () => {
  it("PAPERMAIL_LOG_FORMAT=json writes one JSON object per line: time, level, event, message", async () => {
    const secret = "s3cret-".repeat(6);
    const serve = await startServe([], { cwd: tempDir(), env: { PAPERMAIL_LOG_FORMAT: "json", PAPERMAIL_SECRET: secret, PAPERMAIL_DUMPS_DIR: SAMPLE_FILES[0]!.replace(/\/[^/]+$/, "") } });
    await waitFor(() => serve.output.stdout.includes('"event":"ingest"'), "the ingest's log line");
    await serve.stop();
    const out = serve.output.stdout;
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { time: string; level: string; event: string; msg: string });
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) {
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      expect(["info", "warn", "error"]).toContain(l.level);
      expect(typeof l.event).toBe("string");
    }
    expect(lines.find((l) => l.event === "ingest")!.msg).toMatch(/^ingest: 4 file\(s\), 4 ingested/);
    expect(out).not.toContain(secret);
  });

  it("never writes a secret of the settings, in either format", async () => {
    const { createLog } = await import("../../src/util/log.js");
    const { PassThrough } = await import("node:stream");
    for (const format of ["text", "json"] as const) {
      const stream = new PassThrough();
      let written = "";
      stream.on("data", (c) => (written += c));
      const log = createLog(format, ["hunter2-password", undefined, "tok-0123456789abcdef"], stream);
      log("bounces: imaps://user:hunter2-password@mail.example.org/INBOX refused the login");
      log("alert: a token tok-0123456789abcdef in a line");
      await new Promise((r) => setImmediate(r));
      expect(written).not.toContain("hunter2-password");
      expect(written).not.toContain("tok-0123456789abcdef");
      expect(written).toContain("[redacted]");
      if (format === "json") expect(written.trim().split("\n").map((l) => JSON.parse(l).level)).toEqual(["warn", "warn"]);
    }
  });
});
