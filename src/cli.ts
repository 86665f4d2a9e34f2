#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { loadConfig } from "./config/load.js";
import { SETTINGS, shownDefault } from "./config/settings.js";
import { describeError, isPapermailError } from "./errors.js";
import { createContext, type CommandContext } from "./context.js";
import { EXIT } from "./commands/context.js";
import { registerSubscriberCommands } from "./commands/subscribers.js";
import { parseTopics } from "./model/topics.js";
import { CADENCES, FORMATS, type Cadence, type Format } from "./model/choices.js";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** commander argument parser from a zod schema: a bad flag value is a usage error (exit 2). */
export function zodArg<T>(schema: z.ZodType<T>) {
  return (value: string): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(r.error.issues[0]?.message ?? "invalid value");
    return r.data;
  };
}

const positiveInt = zodArg(z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").positive("must be at least 1"));
const captureTime = zodArg(
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, "must be a date such as 2024-12-12 or 2024-12-12T09:30:00Z")
    .transform((v) => new Date(v.length === 10 ? `${v}T12:00:00Z` : v))
    .refine((d) => !Number.isNaN(d.getTime()), "is not a real date"),
);

/** A calendar day as YYYY-MM-DD that exists (2025-02-30 does not). */
const isoDay = zodArg(
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date such as 2025-01-15")
    .refine((d) => {
      const t = new Date(`${d}T00:00:00Z`);
      return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d);
    }, "is not a real date"),
);

const ENV_HELP = `\nEnvironment (also read from ./.env; the environment wins):\n${SETTINGS.map(
  (v) => `  ${v.name.padEnd(28)} ${v.help}\n  ${"".padEnd(28)} default: ${shownDefault(v)}`,
).join("\n")}\n\nExit codes: 0 ok, 1 some input was rejected or a send failed, 2 bad usage or configuration.`;

/** Runs one command with a fresh context; configuration errors exit 2. */
async function withContext(run: (ctx: CommandContext) => number | Promise<number>): Promise<void> {
  const config = loadConfig();
  for (const warning of config.warnings) process.stderr.write(`papermail: warning: ${warning}\n`);
  const ctx = createContext(config);
  try {
    process.exitCode = await run(ctx);
  } finally {
    ctx.db.close();
  }
}

/** Builds the `papermail` program. */
export function buildProgram(): Command {
  const program = new Command("papermail")
    .description("Publish the Hugging Face Daily Papers page as an email digest and an RSS feed.")
    .version(version)
    .showHelpAfterError("(run with --help for usage)")
    // Options after a subcommand are its own: `papers purge --unsent` is not `papers --unsent`.
    .enablePositionalOptions()
    .addHelpText("after", ENV_HELP);

  program
    .command("ingest")
    .description("read dump files (default: PAPERMAIL_DUMPS_DIR) and store their papers; files already ingested are skipped")
    .argument("[paths...]", "dump files or folders (folders are read recursively, in name order)")
    .option("--json", "print one JSON document: per file path, status (ingested|unchanged|rejected), papers, new, updated, error")
    .option("--captured-at <date>", "capture time of the files (gives the page date its year); default: a date in the file name, else its modification time", captureTime)
    .addHelpText("after", "\nExamples:\n  papermail ingest                 # the dump folder\n  papermail ingest dumps/x.txt --captured-at 2024-12-12 --json")
    .action((paths: string[], opts: { json?: boolean; capturedAt?: Date }) =>
      withContext(async (ctx) => (await import("./commands/ingest.js")).runIngest(ctx, paths, { json: Boolean(opts.json), capturedAt: opts.capturedAt })),
    );

  program
    .command("status")
    .description("show stored papers, papers waiting, passed over and expired, the list days the next digest covers, dumps, subscribers, the last digest and the next scheduled runs")
    .option("--json", "print one JSON document")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("./commands/status.js")).runStatus(ctx, { json: Boolean(opts.json) })));

  const papers = program
    .command("papers")
    .description("list stored papers by the day Hugging Face listed them, newest first, most upvoted first within a day")
    .option("--unsent", "only papers waiting for a digest (neither sent, passed over nor expired)")
    .option("--passed-over", "only papers no digest will carry, with why: over PAPERMAIL_MAX_PAPERS, below PAPERMAIL_MIN_UPVOTES, or expired")
    .option("--search <words>", "papers with these words in their title, abstract, authors, organisation, keywords or summary, best match first (as the site's search)")
    .option("--page <n>", "with --search: which page of results (of --limit, default 20)", positiveInt)
    .option("--limit <n>", "show at most n papers", positiveInt)
    .option("--json", "print one JSON array (with --search: one object with the query, the count and the papers)")
    .addHelpText("after", '\nExamples:\n  papermail papers --unsent --limit 10\n  papermail papers --search "speech recognition"\n  papermail papers --search diffusion --page 2 --json')
    .action((opts: { json?: boolean; unsent?: boolean; passedOver?: boolean; limit?: number; search?: string; page?: number }) =>
      withContext(async (ctx) =>
        (await import("./commands/papers.js")).runPapers(ctx, {
          json: Boolean(opts.json),
          unsent: Boolean(opts.unsent),
          passedOver: Boolean(opts.passedOver),
          limit: opts.limit,
          search: opts.search,
          page: opts.page,
        }),
      ),
    );
  papers
    .command("purge")
    .description("remove papers no digest carried yet: those first seen in one dump, before a date, or all of them")
    .option("--dump <file>", "papers first seen in this dump file")
    .option("--before <date>", "papers first seen before this date (YYYY-MM-DD)", isoDay)
    .option("--unsent", "every paper no digest carried yet")
    .option("--dry-run", "show what would go; change nothing")
    .option("--json", "print one JSON document")
    .action((opts: { dump?: string; before?: string; unsent?: boolean; dryRun?: boolean; json?: boolean }) =>
      withContext(async (ctx) =>
        (await import("./commands/papers.js")).runPurge(ctx, { dump: opts.dump, before: opts.before, unsent: Boolean(opts.unsent), dryRun: Boolean(opts.dryRun), json: Boolean(opts.json) }),
      ),
    );

  program
    .command("fetch")
    .description("download Hugging Face's daily_papers JSON into the dumps folder (a dated file per day) and ingest it")
    .option("--date <date>", "the day to fetch, YYYY-MM-DD (default: today, UTC)", isoDay)
    .option("--days <n>", "also the n-1 days before it", positiveInt, 1)
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nFrom PAPERMAIL_HF_API_URL, with a User-Agent naming papermail; 429 and 5xx answers are retried with backoff (Retry-After\nis honoured) and a malformed answer leaves no file. Fetching a day again later updates upvotes and adds papers.")
    .action((opts: { date?: string; days: number; json?: boolean }) =>
      withContext(async (ctx) => (await import("./commands/fetch.js")).runFetch(ctx, { date: opts.date, days: opts.days, json: Boolean(opts.json) })),
    );

  registerSubscriberCommands(program, withContext);

  program
    .command("send-digest")
    .description("publish the digest of the list days completed since the last one and email it to every active subscriber; first finishes an interrupted digest")
    .addOption(
      new Option("--edition <edition>", "daily: the best papers of the new list days, to daily readers; weekly: the papers of the daily digests since the last weekly one, to weekly readers")
        .choices(CADENCES)
        .default("daily"),
    )
    .option("--dry-run", "show which papers would go out and to how many people; change nothing")
    .addOption(new Option("--format <format>", "with --preview or --to: render as readers of this format see it").choices(FORMATS).default("full"))
    .option("--preview <file>", "write the next digest's HTML to FILE (and its text to FILE's .txt sibling) without publishing")
    .option("--to <email>", "send a test copy of the next digest to one address without publishing or marking anything")
    .option("--max-papers <n>", "at most n papers in this digest (default: PAPERMAIL_MAX_PAPERS, 30); the rest of its days are passed over", positiveInt)
    .option("--retry-unknown", "also resend rows left `unknown` by a crash (they may have arrived: duplicates possible)")
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      "\nA daily digest is news: it covers the list days (the days Hugging Face listed the papers) completed since\n" +
        "the previous daily digest, at most the newest PAPERMAIL_CATCH_UP_DAYS (3) of them, and carries their best\n" +
        "PAPERMAIL_MAX_PAPERS papers, most upvoted first. What does not make it is passed over, older waiting papers\n" +
        "expire (`papers --passed-over` lists both); no new day, no digest. A day is complete at midnight UTC or\n" +
        "once a newer day is listed (PAPERMAIL_INCLUDE_TODAY=true sends the day in progress).\n\n" +
        "Each reader gets the papers that match their topics and minimum of upvotes, in their format; a reader\n" +
        "whom nothing matches gets no email (the ledger says why). A paper goes to a reader once, whatever\n" +
        "edition they switch to. The scheduler runs the daily edition on PAPERMAIL_DIGEST_CRON and the weekly\n" +
        "one on PAPERMAIL_WEEKLY_CRON.",
    )
    .action((opts: { edition: Cadence; format: Format; dryRun?: boolean; preview?: string; to?: string; maxPapers?: number; retryUnknown?: boolean; json?: boolean }) =>
      withContext(async (ctx) => {
        const { runSendDigest } = await import("./commands/send-digest.js");
        // Ctrl-C or SIGTERM: stop claiming, record the messages in flight, exit. A second one exits at once.
        const abort = new AbortController();
        const onSignal = (signal: NodeJS.Signals) => {
          if (abort.signal.aborted) process.exit(130);
          process.stderr.write(`\npapermail: ${signal}: pausing after the messages in flight (again to quit at once)\n`);
          abort.abort();
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
        try {
          return await runSendDigest(ctx, {
            edition: opts.edition,
            format: opts.format,
            dryRun: Boolean(opts.dryRun),
            preview: opts.preview,
            to: opts.to,
            maxPapers: opts.maxPapers,
            retryUnknown: Boolean(opts.retryUnknown),
            json: Boolean(opts.json),
            signal: abort.signal,
          });
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        }
      }),
    );

  const bounces = program.command("bounces").description("read bounce and complaint messages (DSN, ARF feedback reports, SES notices, common server bounces)");
  bounces
    .command("ingest")
    .description("read bounces and complaints from .eml files, maildir folders or mbox files; each message counts once")
    .argument("<paths...>", "files or folders")
    .option("--json", "print one JSON document: each message's kind, reason, status code, recipients, proof and effect")
    .option("--dry-run", "say what each message would do, and change nothing")
    .addHelpText(
      "after",
      [
        "",
        "Each message is judged (kind: hard, soft, sender, complaint or not-a-bounce, with a reason such as userunknown",
        "or blocked) and must prove that it answers mail papermail sent to that reader (a VERP token, papermail's",
        "Message-ID or its signed unsubscribe link, and a ledger row). Then: hard -> bounced; PAPERMAIL_SOFT_BOUNCE_LIMIT",
        "soft ones within PAPERMAIL_SOFT_BOUNCE_DAYS -> bounced; complaint -> complained; sender (our side was refused)",
        "-> counted per domain, nobody changes. A report without proof is kept as unverified and changes nobody.",
        "Messages not recognised are reported and left alone (exit 1).",
      ].join("\n"),
    )
    .action((paths: string[], opts: { json?: boolean; dryRun?: boolean }) =>
      withContext(async (ctx) => (await import("./commands/bounces.js")).runBouncesIngest(ctx, paths, { json: Boolean(opts.json), dryRun: Boolean(opts.dryRun) })),
    );
  bounces
    .command("fetch")
    .description("read PAPERMAIL_BOUNCE_MAILBOX once over IMAP, as the scheduler does every PAPERMAIL_BOUNCE_CRON")
    .option("--json", "print one JSON document")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("./commands/bounces.js")).runBouncesFetch(ctx, { json: Boolean(opts.json) })));

  const suppressions = program.command("suppressions").description("addresses that get no mail: unsubscribed, bounced, complained");
  suppressions
    .command("list")
    .description("list the suppression list with the reason and date")
    .option("--json", "print one JSON array")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("./commands/suppressions.js")).runSuppressionsList(ctx, { json: Boolean(opts.json) })));
  suppressions
    .command("add")
    .description("put addresses on the suppression list (known or not): they get nothing from now on")
    .argument("<email...>", "addresses")
    .option("--reason <text>", "why, kept with the address")
    .action((emails: string[], opts: { reason?: string }) => withContext(async (ctx) => (await import("./commands/suppressions.js")).runSuppressionsAdd(ctx, emails, opts)));
  suppressions
    .command("remove")
    .description("take addresses off the suppression list; they become pending and may subscribe again (nobody is made active)")
    .argument("<email...>", "addresses")
    .action((emails: string[]) => withContext(async (ctx) => (await import("./commands/suppressions.js")).runSuppressionsRemove(ctx, emails)));

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
      const { hashPassword } = await import("./server/admin/auth.js");
      process.stdout.write(`${hashPassword(password)}\n`);
    });

  const maintenance = program.command("maintenance").description("keep the database small and safe");
  maintenance
    .command("compact")
    .description("compact the ledger rows of digests finished over PAPERMAIL_LEDGER_DAYS ago into per-digest counts (the scheduler does this daily)")
    .option("--json", "print one JSON document")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("./commands/maintenance.js")).runCompact(ctx, { json: Boolean(opts.json) })));
  maintenance
    .command("backup")
    .description("write a consistent copy of the database to FILE while papermail runs (SQLite online backup)")
    .argument("<file>", "where to write the copy")
    .option("--json", "print one JSON document")
    .action((file: string, opts: { json?: boolean }) => withContext(async (ctx) => (await import("./commands/maintenance.js")).runBackup(ctx, file, { json: Boolean(opts.json) })));

  program
    .command("feed")
    .description("print the feed the site serves: RSS (/feed.xml), Atom (/feed.atom) or JSON Feed (/feed.json), optionally filtered")
    .addOption(new Option("--format <format>", "rss, atom or json").choices(["rss", "atom", "json"]).default("rss"))
    .option("--topics <list>", 'only papers on these topics, comma-separated (e.g. "speech, diffusion"): whole words, any case, simple plurals', zodArg(z.string().transform((v, c) => {
      try {
        return parseTopics(v);
      } catch (err) {
        c.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    })))
    .option("--min-upvotes <n>", "only papers with at least n upvotes", zodArg(z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more")))
    .option("--out <file>", "write it to FILE instead of standard output")
    .action((opts: { out?: string; format: "rss" | "atom" | "json"; topics?: string[]; minUpvotes?: number }) =>
      withContext(async (ctx) =>
        (await import("./commands/feed.js")).runFeed(ctx, { out: opts.out, format: opts.format, filter: { topics: opts.topics ?? [], minUpvotes: opts.minUpvotes ?? 0 } }),
      ),
    );

  program
    .command("serve")
    .description("run the site (subscribe, confirm, unsubscribe, feed, archive) and the scheduler (ingest and digest on their cron schedules)")
    .addOption(new Option("--no-scheduler", "serve only; run no scheduled jobs"))
    .action(async (opts: { scheduler: boolean }) => {
      const config = loadConfig();
      for (const warning of config.warnings) process.stderr.write(`papermail: warning: ${warning}\n`);
      await (await import("./commands/serve.js")).runServe(config, { scheduler: opts.scheduler });
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  // `papermail papers | head`: a reader that stops reading is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const program = buildProgram();
  // Every level of subcommand: a usage error anywhere exits 2, not commander's 1.
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (isPapermailError(err, "CONFIG", "USAGE", "NOT_FOUND", "BAD_ADDRESS")) {
      process.stderr.write(`papermail: ${err.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(`papermail: ${describeError(err)}\n`);
    if (process.env.PAPERMAIL_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = EXIT.rejected;
  }
}

await main(process.argv);
