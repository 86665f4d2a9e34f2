import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/load.js";
import type { CommandContext } from "../../src/commands/context.js";
import { createMetrics } from "../../src/metrics/registry.js";
import { createApp } from "../../src/server/app.js";
import { openDatabase } from "../../src/store/db.js";
import { watchUnsubscribeJournal } from "../../src/subscribers/unsubscribe-journal.js";
import type { Clock } from "../../src/util/time.js";
import { defer } from "./cleanup.js";
import { tempDir } from "./files.js";
import { startSmtpServer } from "./smtp-server.js";
import { waitFor } from "./wait.js";
import { ingestFile } from "../../src/ingest/ingest-file.js";
import { publishDigests } from "../../src/digest/publish.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";
import { SAMPLE_FILES } from "./files.js";

/** A movable clock, for expiring tokens. */
export function fakeClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

type Fault = NonNullable<Parameters<typeof startSmtpServer>[0]>["fault"];

/**
 * The real site on 127.0.0.1, on a port the system picks, with a real SMTP server
 * receiving its mail and the journal timer `serve` runs beside it; all stopped when
 * the test ends. Its public URL is where it listens, unless `env` names another.
 */
export async function startSite(options: { clock?: Clock; fault?: Fault; env?: Record<string, string> } = {}) {
  const smtp = await startSmtpServer({ fault: options.fault });
  defer(() => smtp.close());
  const cwd = tempDir();
  const env = { PAPERMAIL_SMTP_URL: smtp.url, PAPERMAIL_PORT: "0", PAPERMAIL_SMTP_POOL: "1", ...options.env };
  const config = loadConfig(env, cwd);
  const clock = options.clock ?? { now: () => new Date() };
  // As `serve` opens it: a short lock wait, so a held lock answers 503 instead of stalling.
  const ctx: CommandContext = { config, db: openDatabase(config.dbPath, { busyTimeoutMs: 100 }), clock, out: () => undefined, err: () => undefined };
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const metrics = createMetrics(ctx.db, clock);
  const app = createApp({ db: ctx.db, config, clock, log, metrics });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  const port = (app.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  // The address is known once the site listens: links in its pages and mail point there.
  if (!options.env?.PAPERMAIL_PUBLIC_URL) Object.assign(config, { publicUrl: base, publicUrlSet: true });
  const stopJournal = watchUnsubscribeJournal(ctx.db, config.dbPath, log);
  defer(() => new Promise<void>((resolve) => app.close(() => resolve())));
  defer(() => app.closeAllConnections());
  defer(stopJournal);

  const post = (path: string, body: Record<string, string> | string) =>
    fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: typeof body === "string" ? body : new URLSearchParams(body).toString(),
      redirect: "manual",
    });
  /** Waits until the SMTP server has `n` messages (confirmations are sent after the answer). */
  const mailCount = async (n: number) => {
    await waitFor(() => smtp.received.length >= n, `${n} message(s) at the SMTP server`);
    return smtp.received.length;
  };
  /** Waits until the site has logged a line matching `pattern` `times` times. */
  const logged = (pattern: RegExp, times = 1) => waitFor(() => logs.filter((l) => pattern.test(l)).length >= times, `${times} log line(s) matching ${pattern}`);
  return { base, smtp, ctx, post, mailCount, logged, cwd, env, logs, port, metrics };
}

/** A site whose one reader, ada@example.org, got the first digest of a sample day: the site and that email, parsed. */
export async function siteWithDigest(options: Parameters<typeof startSite>[0] = {}) {
  const site = await startSite(options);
  addConfirmedReader(site.ctx.db, "ada@example.org", new Date().toISOString());
  await ingestFile(site.ctx, SAMPLE_FILES[0]!);
  await publishDigests(site.ctx, { retryUnknown: false });
  return { site, mail: await site.smtp.parse(site.smtp.received[0]!) };
}
