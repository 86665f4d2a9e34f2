import Database from "better-sqlite3";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { startSite } from "../helpers/site.js";

describe("the site under faults", () => {
  it("keeps answering while another process holds the write lock, and a write that cannot wait answers 503", async () => {
    const site = await startSite();
    const blocker = new Database(site.ctx.config.dbPath);
    blocker.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const home = await fetch(site.base + "/");
      expect(home.status).toBe(200);
      const post = await site.post("/subscribe", { email: "ada@example.org" });
      expect(post.status).toBe(503);
      expect(post.headers.get("retry-after")).toBe("5");
      // Stalled for the lock, the answer would take its whole wait (15 s for a command): the site waits 100 ms.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    expect((await site.post("/subscribe", { email: "ada@example.org" })).status).toBe(200);
  });

  it("answers 400 to a request line it cannot parse", async () => {
    const site = await startSite();
    const ask = (request: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(site.port, "127.0.0.1", () => socket.write(request));
        let answer = "";
        socket.on("data", (d) => (answer += d));
        socket.on("close", () => resolve(answer));
        socket.on("error", () => resolve(answer));
      });
    expect(await ask("GET //x:99999/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
    expect(await ask("GARBAGE\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
  });

  it("reports a database that cannot be read on /healthz", async () => {
    const site = await startSite();
    expect((await fetch(site.base + "/healthz")).status).toBe(200);
    site.ctx.db.close();
    const down = await fetch(site.base + "/healthz");
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, error: expect.stringMatching(/database cannot be read/) });
  });
});
