import { Option, type Command } from "commander";
import { loadConfig } from "../config/load.js";
import { withContext } from "./with-context.js";

/** `papermail admin|maintenance|serve`: running the installation. */
export function registerOperatorCommands(program: Command): void {
  program
    .command("admin")
    .description("the operator console's settings")
    .command("hash-password")
    .description("read a console password from standard input and print it hashed (scrypt), for PAPERMAIL_ADMIN_PASSWORD_HASH")
    .addHelpText("after", "\nExample:\n  read -rs PW && printf %s \"$PW\" | papermail admin hash-password")
    .action(async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
      if (password.length < 12) {
        process.stderr.write("papermail: the console password must be at least 12 characters\n");
        process.exitCode = 2;
        return;
      }
      const { hashPassword } = await import("../server/admin/auth.js");
      process.stdout.write(`${hashPassword(password)}\n`);
    });

  const maintenance = program.command("maintenance").description("keep the database small and safe");
  maintenance
    .command("compact")
    .description("compact the ledger rows of digests finished over PAPERMAIL_LEDGER_DAYS ago into per-digest counts (the scheduler does this daily)")
    .option("--json", "print one JSON document")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("../commands/maintenance.js")).runCompact(ctx, { json: Boolean(opts.json) })));
  maintenance
    .command("backup")
    .description("write a consistent copy of the database to FILE while papermail runs (SQLite online backup)")
    .argument("<file>", "where to write the copy")
    .option("--json", "print one JSON document")
    .action((file: string, opts: { json?: boolean }) => withContext(async (ctx) => (await import("../commands/maintenance.js")).runBackup(ctx, file, { json: Boolean(opts.json) })));

  program
    .command("doctor")
    .description("check what mailbox providers require of a bulk sender: SPF, DKIM, DMARC, reverse DNS, TLS, one-click unsubscribe, and a composed digest's authentication")
    .option("--ip <address>", "the public address your mail leaves from (default: the relay's, when public)")
    .option("--json", 'print {"checks": [{name, status: pass|warn|fail, detail, fix}]}')
    .addHelpText("after", "\nExit status: 0 when nothing fails, 1 when a check fails. DNS is asked through PAPERMAIL_DNS_SERVERS, else the system's resolvers.\n\nExample:\n  papermail doctor --ip 203.0.113.7")
    .action((opts: { json?: boolean; ip?: string }) => withContext(async (ctx) => (await import("../commands/doctor.js")).runDoctor(ctx, { json: Boolean(opts.json), ip: opts.ip })));

  program
    .command("serve")
    .description("run the site (subscribe, confirm, unsubscribe, feed, archive) and the scheduler (ingest and digest on their cron schedules)")
    .addOption(new Option("--no-scheduler", "serve only; run no scheduled jobs"))
    .action(async (opts: { scheduler: boolean }) => {
      const config = loadConfig();
      for (const warning of config.warnings) process.stderr.write(`papermail: warning: ${warning}\n`);
      await (await import("../commands/serve.js")).runServe(config, { scheduler: opts.scheduler });
    });
}
