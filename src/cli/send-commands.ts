import { Option, type Command } from "commander";
import { CADENCES, FORMATS, type Cadence, type Format } from "../model/choices.js";
import { positiveInt } from "./args.js";
import { withContext } from "./with-context.js";

/** `papermail send-digest|bounces|suppressions`: sending, and what comes back. */
export function registerSendCommands(program: Command): void {
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
        const { runSendDigest } = await import("../commands/send-digest.js");
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
      withContext(async (ctx) => (await import("../commands/bounces.js")).runBouncesIngest(ctx, paths, { json: Boolean(opts.json), dryRun: Boolean(opts.dryRun) })),
    );
  bounces
    .command("fetch")
    .description("read PAPERMAIL_BOUNCE_MAILBOX once over IMAP, as the scheduler does every PAPERMAIL_BOUNCE_CRON")
    .option("--json", "print one JSON document")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("../commands/bounces.js")).runBouncesFetch(ctx, { json: Boolean(opts.json) })));

  const suppressions = program.command("suppressions").description("addresses that get no mail: unsubscribed, bounced, complained");
  suppressions
    .command("list")
    .description("list the suppression list with the reason and date")
    .option("--json", "print one JSON array")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("../commands/suppressions.js")).runSuppressionsList(ctx, { json: Boolean(opts.json) })));
  suppressions
    .command("add")
    .description("put addresses on the suppression list (known or not): they get nothing from now on")
    .argument("<email...>", "addresses")
    .option("--reason <text>", "why, kept with the address")
    .action((emails: string[], opts: { reason?: string }) => withContext(async (ctx) => (await import("../commands/suppressions.js")).runSuppressionsAdd(ctx, emails, opts)));
  suppressions
    .command("remove")
    .description("take addresses off the suppression list; they become pending and may subscribe again (nobody is made active)")
    .argument("<email...>", "addresses")
    .action((emails: string[]) => withContext(async (ctx) => (await import("../commands/suppressions.js")).runSuppressionsRemove(ctx, emails)));
}
