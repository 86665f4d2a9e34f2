import type { Server } from "node:http";
import { createServer } from "node:net";
import { afterEach } from "vitest";
import { loadConfig } from "../src/config/load.js";
import type { CommandContext } from "../src/commands/context.js";
import { createApp } from "../src/server/app.js";
import { openDatabase } from "../src/store/db.js";
import type { Clock } from "../src/util/time.js";
import { tempDir } from "./helpers.js";
import { startSmtpServer } from "./smtp.js";
import { createMetrics } from "../src/metrics/registry.js";
import { watchUnsubscribeJournal } from "../src/subscribers/unsubscribe-journal.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A movable clock, for expiring tokens. */
export function fakeClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

/** The real server on 127.0.0.1 with a real SMTP server receiving its mail. */
export async function startSite(options: { clock?: Clock; fault?: Parameters<typeof startSmtpServer>[0] extends infer O ? (O extends { fault?: infer F } ? F : never) : never; env?: Record<string, string> } = {}) {
  const smtp = await startSmtpServer({ fault: options.fault });
  const port = await freePort();
  const cwd = tempDir();
  const env = { PAPERMAIL_SMTP_URL: smtp.url, PAPERMAIL_PORT: String(port), PAPERMAIL_PUBLIC_URL: `http://127.0.0.1:${port}`, PAPERMAIL_SMTP_POOL: "1", ...options.env };
  const config = loadConfig(env, cwd);
  const clock = options.clock ?? { now: () => new Date() };
  // As `serve` opens it: a short lock wait, so a held lock answers 503 instead of stalling.
  const ctx: CommandContext = { config, db: openDatabase(config.dbPath, { busyTimeoutMs: 100 }), clock, out: () => undefined, err: () => undefined };
  const logs: string[] = [];
  const metrics = createMetrics(ctx.db, clock);
  const app: Server = createApp({ db: ctx.db, config, clock, log: (line) => logs.push(line), metrics });
  await new Promise<void>((resolve) => app.listen(port, "127.0.0.1", resolve));
  // As `serve` does beside the site.
  const stopJournal = watchUnsubscribeJournal(ctx.db, config.dbPath, (line) => logs.push(line));
  cleanups.push(
    stopJournal,
    () => smtp.close(),
    () => new Promise<void>((resolve) => app.close(() => resolve())),
    () => app.closeAllConnections(),
  );
  const base = `http://127.0.0.1:${port}`;
  const post = (path: string, body: Record<string, string> | string) =>
    fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: typeof body === "string" ? body : new URLSearchParams(body).toString(),
      redirect: "manual",
    });
  /** Waits until the SMTP server has `n` messages (confirmations are sent after the answer). */
  const mailCount = async (n: number) => {
    for (let i = 0; i < 200 && smtp.received.length < n; i++) await new Promise((r) => setTimeout(r, 25));
    return smtp.received.length;
  };
  return { base, smtp, ctx, post, mailCount, cwd, env, logs, port, metrics };
}

