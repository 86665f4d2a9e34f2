import type { AddressInfo } from "node:net";
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.js";
import { createMetrics } from "../../../src/metrics/registry.js";
import { createAdminApp } from "../../../src/server/admin-app.js";
import { checkPassword, hashPassword } from "../../../src/server/admin/auth.js";
import { openDatabase } from "../../../src/store/db.js";
import { tempDir } from "../../helpers/files.js";
import { startSite } from "../../helpers/site.js";

const PASSWORD = "correct horse battery staple";
/** As operators are told to configure it: the scrypt hash, never the password itself. */
const HASH = hashPassword(PASSWORD);

/** The site with the console on, behind a proxy that says who each client is. */
async function consoleSite() {
  const site = await startSite({ env: { PAPERMAIL_ADMIN_PASSWORD_HASH: HASH, PAPERMAIL_TRUST_PROXY: "true" } });
  const form = await fetch(`${site.base}/admin/login`);
  const cookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = (password: string, client: string) =>
    fetch(`${site.base}/admin/login`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": client },
      body: new URLSearchParams({ csrf, password }).toString(),
    });
  /**
   * Logins whose headers all reach the server before any body does: every request is
   * in the handler, past any check made before the body, when the passwords arrive.
   */
  const burst = async (passwords: string[], client: string) => {
    const pending = passwords.map((password) => {
      const body = new URLSearchParams({ csrf, password }).toString();
      const req = httpRequest({
        host: "127.0.0.1",
        port: site.port,
        path: "/admin/login",
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)), "x-forwarded-for": client },
      });
      req.flushHeaders();
      const answer = new Promise<number>((resolve, reject) => {
        req.on("response", (res) => (res.resume(), resolve(res.statusCode!)));
        req.on("error", reject);
      });
      return { req, body, answer };
    });
    // A request on a connection opened after all of them: once it is answered, the server has seen their headers.
    await fetch(`${site.base}/healthz`);
    for (const p of pending) p.req.end(p.body);
    return Promise.all(pending.map((p) => p.answer));
  };
  return { ...site, login, burst };
}

/** A raw request to the admin listener with a Host header of our choosing (fetch would not let us set it). */
function rawRequest(port: number, options: { path: string; host: string; method?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: options.path, method: options.method ?? "GET", headers: { host: options.host, ...options.headers } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

async function adminListener(env: Record<string, string> = {}) {
  const cwd = tempDir();
  const config = loadConfig({ PAPERMAIL_ADMIN_HOST: "127.0.0.1", PAPERMAIL_ADMIN_PASSWORD: PASSWORD, ...env }, cwd);
  const db = openDatabase(config.dbPath);
  const clock = { now: () => new Date() };
  const logs: string[] = [];
  const server = createAdminApp({ db, config, clock, metrics: createMetrics(db, clock), log: (l) => logs.push(l) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    logs,
    close: () => new Promise<void>((resolve) => server.close(() => (db.close(), resolve()))),
  };
}

describe("the console's login", () => {
  it("counts a try before checking it: 40 simultaneous guesses from one address get five checks, and the 40th, right, is refused", async () => {
    const c = await consoleSite();
    const statuses = await c.burst(Array.from({ length: 40 }, (_, i) => (i === 39 ? PASSWORD : `wrong guess ${i}`)), "198.51.100.7");
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 303)).toEqual([]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
  });

  it("never locks the operator out: after 20 failures from four addresses the right password from a fifth still opens a session", async () => {
    const c = await consoleSite();
    for (const client of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]) {
      for (let i = 0; i < 5; i++) expect((await c.login("wrong guess", client)).status).toBe(401);
    }
    // The brake is on: a client that failed waits; a new client gets one try at a time.
    expect((await c.login(PASSWORD, "192.0.2.1")).status).toBe(429);
    expect((await c.login("another wrong guess", "198.51.100.1")).status).toBe(401);
    expect((await c.login(PASSWORD, "198.51.100.1")).status).toBe(429);
    expect((await c.login(PASSWORD, "203.0.113.9")).status).toBe(303);
  });

  it("checks a password hash off the event loop: the loop turns while scrypt works", async () => {
    const hash = hashPassword(PASSWORD);
    let turns = 0;
    let working = true;
    const spin = () => {
      if (!working) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => checkPassword(i === 0 ? PASSWORD : "wrong", { hash })));
    working = false;
    expect(results).toEqual([true, false, false, false, false, false, false, false]);
    // Eight scrypt runs on the loop would leave it no turn at all until they were done.
    expect(turns).toBeGreaterThan(8);
  });
});

describe("the admin listener", () => {
  it("answers only its own host names: a rebound name gets 421, /metrics included", async () => {
    const a = await adminListener({ PAPERMAIL_ADMIN_ALLOWED_HOSTS: "admin.internal" });
    try {
      expect((await rawRequest(a.port, { path: "/metrics", host: "rebind.attacker.example" })).status).toBe(421);
      expect((await rawRequest(a.port, { path: "/admin/login", host: `rebind.attacker.example:${a.port}` })).status).toBe(421);
      expect((await rawRequest(a.port, { path: "/metrics", host: `127.0.0.1:${a.port}` })).status).toBe(200);
      expect((await rawRequest(a.port, { path: "/metrics", host: "localhost" })).status).toBe(200);
      expect((await rawRequest(a.port, { path: "/metrics", host: "admin.internal:8443" })).status).toBe(200);
    } finally {
      await a.close();
    }
  });

  it("answers a form of the wrong type 415 and a large body 413, as the site does, without logging an error", async () => {
    const a = await adminListener();
    try {
      const host = `127.0.0.1:${a.port}`;
      const typed = await rawRequest(a.port, { path: "/admin/login", host, method: "POST", headers: { "content-type": "text/plain" }, body: "password=x" });
      expect(typed.status).toBe(415);
      const big = await rawRequest(a.port, { path: "/admin/login", host, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `password=${"x".repeat(20_000)}` });
      expect(big.status).toBe(413);
      expect(a.logs.filter((l) => l.includes("error"))).toEqual([]);
    } finally {
      await a.close();
    }
  });
});
