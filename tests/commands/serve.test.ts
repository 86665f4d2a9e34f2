import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startServe } from "../helpers/cli.js";
import { SAMPLE_FILES, tempDir } from "../helpers/files.js";
import { waitFor } from "../helpers/wait.js";

describe("papermail serve", () => {
  it("serves, ingests the dump folder at start, and stops cleanly on SIGTERM", async () => {
    const cwd = tempDir();
    const serve = await startServe([], { cwd, env: { PAPERMAIL_DUMPS_DIR: SAMPLE_FILES[0]!.replace(/\/[^/]+$/, "") } });
    await waitFor(() => serve.output.stdout.includes("ingest:"), "the first ingest");
    expect(serve.output.stdout).toContain(`serving http://127.0.0.1:${serve.port}/`);
    expect(serve.output.stdout).toMatch(/ingest: 4 file\(s\), 4 ingested/);
    expect((await fetch(`${serve.base}/healthz`)).status).toBe(200);
    expect(await serve.stop()).toBe(0);
    expect(serve.output.stdout).toContain("stopped");
  });

  it("a trial links to the port its server runs on, whichever terminal sends the digest; status names the outbox", async () => {
    const cwd = tempDir();
    // PAPERMAIL_PORT=0: the system picks the port, and the trial's links name the one it picked.
    const serve = await startServe(["--no-scheduler"], { cwd });
    await serve.stop();
    await runCli(["subscribers", "add", "ada@example.org", "--confirmed"], { cwd });
    await runCli(["ingest"], { cwd });
    expect((await runCli(["send-digest"], { cwd })).code).toBe(0);
    const eml = readFileSync(join(cwd, "var", "outbox", "1", "0000001-ada@example.org.eml"), "utf8");
    expect(eml).toContain(`List-Unsubscribe: <http://localhost:${serve.port}/unsubscribe/`);
    expect(eml).not.toContain("localhost:8080");
    const status = (await runCli(["status"], { cwd })).stdout;
    expect(status).toMatch(new RegExp(`^public URL +http://localhost:${serve.port} \\(PAPERMAIL_PUBLIC_URL not set: fine for a trial\\)$`, "m"));
    expect(status).toMatch(/^mail +outbox var\/outbox \(\.eml files; no PAPERMAIL_SMTP_URL set\)$/m);
  });
});
