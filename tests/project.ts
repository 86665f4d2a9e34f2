import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach } from "vitest";
import { loadConfig } from "../src/config.js";
import type { CommandContext } from "../src/context.js";
import { openDatabase } from "../src/store/db.js";
import { systemClock } from "../src/util/time.js";
import { runCli, tempDir } from "./helpers.js";
import { startSmtpServer } from "./smtp.js";

export const HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\nDec 12\n\n";
/** The page header of another list day ("Dec 13"): a dump of a day after the samples' Dec 12. */
export const pageHeader = (day: string) => HEADER.replace("Dec 12", day);
export const ABSTRACT = "We study a thing at length. ".repeat(10).trim();

export const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

export async function smtp(options: Parameters<typeof startSmtpServer>[0] = {}) {
  const server = await startSmtpServer(options);
  servers.push(server);
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

