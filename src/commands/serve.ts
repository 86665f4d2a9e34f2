import type { Config } from "../config/load.js";
import { createApp } from "../server/app.js";
import { createAdminApp } from "../server/admin-app.js";
import { createMetrics } from "../metrics/registry.js";
import { startJobs } from "../work/jobs.js";
import { watchUnsubscribeJournal } from "../subscribers/unsubscribe-journal.js";
import { nextRuns } from "../scheduler/slots.js";
import { PapermailError } from "../errors.js";
import { createLog } from "../util/log.js";
import { createContext } from "./context.js";
import { generatedSecretDropped, SITE_ADDRESS_SETTING, writeSetting } from "../store/settings.js";

/**
 * `papermail serve`: the site and the scheduler in one process. Ingests the dump
 * folder at start, publishes a missed digest slot once, and on Ctrl-C / SIGTERM
 * stops taking requests, lets a send in progress pause safely, and exits.
 */
export async function runServe(config: Config, options: { scheduler: boolean }): Promise<void> {
  // Log lines carry text from outside (mail servers' replies, bounce reports): the log neutralises controls and hides secrets.
  const log = createLog(config.logFormat, config.secrets);
  // A short lock wait: a blocked write must not freeze the event loop (requests answer 503, sends retry).
  // The site's connection reads pages; the jobs' worker has a connection of its own. Both keep a modest cache: they share the process's memory.
  const ctx = createContext(config, { busyTimeoutMs: 100, cacheMb: 32 });
  const metrics = createMetrics(ctx.db, ctx.clock, ctx.config.relays);
  const app = createApp({ db: ctx.db, config, clock: ctx.clock, log, metrics });
  const admin = config.admin ? createAdminApp({ db: ctx.db, config, clock: ctx.clock, metrics, log }) : undefined;

  await new Promise<void>((resolve, reject) => {
    app.once("error", (err: NodeJS.ErrnoException) => {
      ctx.db.close();
      if (err.code === "EADDRINUSE") reject(new PapermailError("CONFIG", `PAPERMAIL_PORT: port ${config.port} on ${config.host} is already in use; stop what runs there or choose another port`, { variable: "PAPERMAIL_PORT" }));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new PapermailError("CONFIG", `PAPERMAIL_HOST: cannot listen on ${config.host} (${err.code})`, { variable: "PAPERMAIL_HOST" }));
      else if (err.code === "EACCES") reject(new PapermailError("CONFIG", `PAPERMAIL_PORT: not allowed to listen on port ${config.port} (ports below 1024 need privileges)`, { variable: "PAPERMAIL_PORT" }));
      else reject(err);
    });
    app.listen(config.port, config.host, resolve);
  });
  if (admin && config.admin) {
    const { host, port: adminPort } = config.admin;
    await new Promise<void>((resolve, reject) => {
      admin.once("error", (err: NodeJS.ErrnoException) =>
        reject(new PapermailError("CONFIG", `PAPERMAIL_ADMIN_PORT: cannot listen on ${host}:${adminPort} (${err.code ?? err.message})`, { variable: "PAPERMAIL_ADMIN_PORT" })),
      );
      admin.listen(adminPort, host, resolve);
    });
    const a = admin.address();
    log(`admin listener on http://${host.includes(":") ? `[${host}]` : host}:${typeof a === "object" && a ? a.port : adminPort}/ (/metrics${config.metricsToken ? " with its bearer token" : ""}${config.adminPassword ? ", the console /admin" : ""})`);
  }
  const address = app.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  // PAPERMAIL_PORT=0 lets the system pick: a trial's links name the port it picked. Set before any request is read.
  if (!config.publicUrlSet && config.port === 0) config.publicUrl = `http://localhost:${port}`;
  if (!config.publicUrlSet) {
    // Commands run in another terminal (send-digest) link to where this server really is: recorded before it is announced.
    writeSetting(ctx.db, SITE_ADDRESS_SETTING, config.publicUrl);
  }
  log(`serving http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}/ (public URL ${config.publicUrl}); database ${config.dbPath}`);
  if (generatedSecretDropped(ctx.db, config)) {
    log("warning: PAPERMAIL_SECRET replaced the secret papermail generated: links in mail sent before no longer work; add PAPERMAIL_SECRET_PREVIOUS=generated to keep them working for a while");
  }
  if (!config.publicUrlSet && !config.demo) log("warning: PAPERMAIL_PUBLIC_URL is not set: digests will not be published until it is (links in mail must reach this site)");

  // Unsubscribes journalled while another process held the write lock land as soon as it is free.
  const stopJournal = watchUnsubscribeJournal(ctx.db, config.dbPath, log);
  let stopping = false;
  let jobs: ReturnType<typeof startJobs> | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (a send in progress pauses after the messages in flight)`);
    app.close();
    app.closeAllConnections();
    admin?.close();
    admin?.closeAllConnections();
    stopJournal();
    await jobs?.stop();
    ctx.db.close();
    log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  if (options.scheduler) {
    const next = nextRuns(config, ctx.clock.now());
    log(`scheduler: ingest ${config.ingestCron}, digest ${config.digestCron}, weekly ${config.weeklyCron} (${config.timeZone}); next digest ${next.digest ?? "-"}, next weekly ${next.weekly ?? "-"}`);
    // The jobs run in a worker thread of their own: the site answers while they work.
    jobs = startJobs(ctx.config, log);
  }
}
