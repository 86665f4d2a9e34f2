import { Option, type Command } from "commander";
import { captureTime, isoDay, minUpvotesArg, positiveInt, topicsArg } from "./args.js";
import { withContext } from "./with-context.js";

/** `papermail ingest|status|papers|papers purge|fetch|feed`: the papers, from dumps to the feed. */
export function registerPaperCommands(program: Command): void {
  program
    .command("ingest")
    .description("read dump files (default: PAPERMAIL_DUMPS_DIR) and store their papers; files already ingested are skipped")
    .argument("[paths...]", "dump files or folders (folders are read recursively, in name order)")
    .option("--json", "print one JSON document: per file path, status (ingested|unchanged|rejected), papers, new, updated, error")
    .option("--captured-at <date>", "capture time of the files (gives the page date its year); default: a date in the file name, else its modification time", captureTime)
    .addHelpText("after", "\nExamples:\n  papermail ingest                 # the dump folder\n  papermail ingest dumps/x.txt --captured-at 2024-12-12 --json")
    .action((paths: string[], opts: { json?: boolean; capturedAt?: Date }) =>
      withContext(async (ctx) => (await import("../commands/ingest.js")).runIngest(ctx, paths, { json: Boolean(opts.json), capturedAt: opts.capturedAt })),
    );

  program
    .command("status")
    .description("show stored papers, papers waiting, passed over and expired, the list days the next digest covers, dumps, subscribers, the last digest and the next scheduled runs")
    .option("--json", "print one JSON document")
    .action((opts: { json?: boolean }) => withContext(async (ctx) => (await import("../commands/status.js")).runStatus(ctx, { json: Boolean(opts.json) })));

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
        (await import("../commands/papers.js")).runPapers(ctx, {
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
        (await import("../commands/papers.js")).runPurge(ctx, { dump: opts.dump, before: opts.before, unsent: Boolean(opts.unsent), dryRun: Boolean(opts.dryRun), json: Boolean(opts.json) }),
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
      withContext(async (ctx) => (await import("../commands/fetch.js")).runFetch(ctx, { date: opts.date, days: opts.days, json: Boolean(opts.json) })),
    );

  program
    .command("feed")
    .description("print the feed the site serves: RSS (/feed.xml), Atom (/feed.atom) or JSON Feed (/feed.json), optionally filtered")
    .addOption(new Option("--format <format>", "rss, atom or json").choices(["rss", "atom", "json"]).default("rss"))
    .option("--topics <list>", 'only papers on these topics, comma-separated (e.g. "speech, diffusion"): whole words, any case, simple plurals', topicsArg)
    .option("--min-upvotes <n>", "only papers with at least n upvotes", minUpvotesArg)
    .option("--out <file>", "write it to FILE instead of standard output")
    .action((opts: { out?: string; format: "rss" | "atom" | "json"; topics?: string[]; minUpvotes?: number }) =>
      withContext(async (ctx) =>
        (await import("../commands/feed.js")).runFeed(ctx, { out: opts.out, format: opts.format, filter: { topics: opts.topics ?? [], minUpvotes: opts.minUpvotes ?? 0 } }),
      ),
    );
}
