import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import type { CommandContext } from "../../src/context.js";
import { openDatabase } from "../../src/store/db.js";
import { systemClock } from "../../src/util/time.js";
import { defer } from "./cleanup.js";
import { runCli, spawnCli } from "./cli.js";
import { SAMPLE_FILES, tempDir } from "./files.js";
import { startSmtpServer } from "./smtp-server.js";

export const HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n";
/** The page header of another list day ("Dec 13"): a dump of a day after the samples' Dec 12. */
export const pageHeader = (day: string) => HEADER.replace("Dec 12", day);
export const ABSTRACT = "We study a thing at length. ".repeat(10).trim();

/** A real SMTP server for this test (closed when it ends). */
export async function smtp(options: Parameters<typeof startSmtpServer>[0] = {}) {
  const server = await startSmtpServer(options);
  defer(() => server.close());
  return server;
}

/** A project folder with its own database, mail going to `smtpUrl`. */
export function project(smtpUrl?: string) {
  const cwd = tempDir();
  const env: Record<string, string> = { PAPERMAIL_PUBLIC_URL: "https://papers.example.org", PAPERMAIL_FROM: "Papers <digest@example.org>" };
  if (smtpUrl) env.PAPERMAIL_SMTP_URL = smtpUrl;
  const cli = (args: string[], input?: string) => runCli(args, { cwd, env, input });
  const db = () => new Database(join(cwd, "var", "papermail.db"), { readonly: true });
  return { cwd, env, cli, db };
}

/** An in-process context on the same database, for tests that need to act mid-send. */
export function context(cwd: string, env: Record<string, string>): CommandContext {
  const config = loadConfig(env, cwd);
  return { config, db: openDatabase(config.dbPath), clock: systemClock, out: () => undefined, err: () => undefined };
}

export function ledger(db: Database.Database) {
  return db.prepare("SELECT s.email, d.status, d.last_error AS error FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id ORDER BY s.id").all() as Array<{
    email: string;
    status: string;
    error: string | null;
  }>;
}

export function addressList(n: number, prefix = "reader"): string {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}@example.org`).join("\n");
}


/**
 * A project with `readers` confirmed readers and one sample ingested, whose first
 * `send-digest` is killed (SIGKILL) once the SMTP server holds `killAfter` messages.
 * Returns the project and its server, after the killed process has exited.
 */
export async function killedSend(readers: number, killAfter: number, fault?: NonNullable<Parameters<typeof startSmtpServer>[0]>["fault"]) {
  let killAt: (() => void) | undefined;
  const server = await smtp({ fault, onMessage: () => killAt?.() });
  const p = project(server.url);
  await p.cli(["subscribers", "import", "-", "--confirmed"], addressList(readers));
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  const child = spawnCli(["send-digest"], { cwd: p.cwd, env: p.env });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  killAt = () => {
    if (server.received.length >= killAfter) {
      killAt = undefined;
      child.kill("SIGKILL");
    }
  };
  await exited;
  return { ...p, server };
}

/** The project's next daily digest frozen in this process (demo papers included), with a mailer for it: for tests that drive deliverDigest themselves. */
export async function frozenDigest(p: { cwd: string; env: Record<string, string> }) {
  const ctx = context(p.cwd, p.env);
  const { freezeEdition } = await import("../../src/digest/editions.js");
  const { createMailer } = await import("../../src/deliver/transport/create-mailer.js");
  const id = freezeEdition(ctx.db, { edition: "daily", maxPapers: 30, at: new Date().toISOString(), subject: () => "test", includeDemo: true })!;
  return { ctx, id, mailer: createMailer(ctx.config, String(id)) };
}

/** A project whose one reader, ada@example.org, got the first digest of a sample file in the outbox: the project and that .eml. */
export async function outboxDigest(sample = SAMPLE_FILES[0]!) {
  const p = project();
  await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
  await p.cli(["ingest", sample]);
  await p.cli(["send-digest"]);
  return { p, eml: readFileSync(join(p.cwd, "var", "outbox", "1", "0000001-ada@example.org.eml")) };
}
