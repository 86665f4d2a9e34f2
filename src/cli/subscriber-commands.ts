import { InvalidArgumentError, type Command } from "commander";
import { EXPORT_COLUMNS, runAdd, runExport, runImport, runList, runRemove, runSet } from "../commands/subscribers.js";
import { PapermailError } from "../errors.js";
import { CADENCES, FORMATS, parseChoices, type ReaderChoices } from "../model/choices.js";
import { SUBSCRIBER_STATUSES as STATUSES, type SubscriberStatus } from "../store/subscribers.js";
import { withContext } from "./with-context.js";

/** Registers `papermail subscribers add|remove|list|import|export`. */
export function registerSubscriberCommands(program: Command): void {
  const subscribers = program
    .command("subscribers")
    .description("manage who gets the digest (statuses: pending, active, unsubscribed, bounced, complained)")
    .addHelpText("after", "\nAddresses must be one plain address (name@example.org): no display names, quotes, comments or commas.");

  const add = subscribers
    .command("add")
    .description("add addresses; without --confirmed each gets a confirmation email and stays pending until they click it")
    .argument("<email...>", "addresses to add")
    .option("--confirmed", "add them as active at once (they asked you directly); someone who unsubscribed stays unsubscribed")
    .option("--reactivate", "with --confirmed: also make people who unsubscribed active again (only if they asked you to)");
  choiceOptions(add)
    .option("--json", "print one JSON document")
    .addHelpText("after", CHOICES_HELP)
    .action((emails: string[], opts: ChoiceFlags & { confirmed?: boolean; reactivate?: boolean; json?: boolean }) =>
      withContext((ctx) =>
        runAdd(ctx, emails, { confirmed: Boolean(opts.confirmed), reactivate: Boolean(opts.reactivate), choices: checkChoiceFlags(opts) }, Boolean(opts.json)),
      ),
    );

  choiceOptions(
    subscribers
      .command("set")
      .description("change what a subscriber gets: cadence, topics, minimum of upvotes, format (what is not given stays)")
      .argument("<email>", "the subscriber's address"),
  )
    .option("--json", "print the subscriber as JSON")
    .addHelpText("after", CHOICES_HELP)
    .action((email: string, opts: ChoiceFlags & { json?: boolean }) => withContext((ctx) => runSet(ctx, email, checkChoiceFlags(opts), Boolean(opts.json))));

  subscribers
    .command("remove")
    .description("unsubscribe an address at once (it gets nothing further, even from a digest being sent)")
    .argument("<email>", "address to remove")
    .option("--forget", "also delete the address and its send history")
    .action((email: string, opts: { forget?: boolean }) => withContext((ctx) => runRemove(ctx, email, Boolean(opts.forget))));

  subscribers
    .command("list")
    .description("list subscribers, oldest first")
    .option("--status <status>", `only one status: ${STATUSES.join(", ")}`, parseStatus)
    .option("--json", "print one JSON array")
    .action((opts: { status?: SubscriberStatus; json?: boolean }) =>
      withContext((ctx) => runList(ctx, opts.status, Boolean(opts.json))),
    );

  subscribers
    .command("import")
    .description("add many addresses from FILE (or - for standard input): one per line, or a CSV with an `email` column and optionally cadence, topics, min_upvotes and format (as `export` writes them)")
    .argument("<file>", "file to read, or - for standard input")
    .option("--confirmed", "add them as active at once (without it they are added as pending and sent a confirmation email); people who unsubscribed stay unsubscribed")
    .option("--reactivate", "with --confirmed: also make people who unsubscribed active again (only if they asked you to)")
    .option("--json", "print one JSON document")
    .action((file: string, opts: { confirmed?: boolean; reactivate?: boolean; json?: boolean }) =>
      withContext((ctx) => runImport(ctx, file, { confirmed: Boolean(opts.confirmed), reactivate: Boolean(opts.reactivate) }, Boolean(opts.json))),
    );

  subscribers
    .command("export")
    .description(`print subscribers as CSV (${EXPORT_COLUMNS}); topics are separated by commas within their field`)
    .option("--status <status>", `only one status: ${STATUSES.join(", ")}`, parseStatus)
    .action((opts: { status?: SubscriberStatus }) =>
      withContext((ctx) => runExport(ctx, opts.status)),
    );
}

const CHOICES_HELP = `
Choices (new subscribers get daily, every topic, no minimum, full; each reader may change
theirs from the preferences link in every email):
  --cadence daily|weekly     every daily digest, or one email a week (PAPERMAIL_WEEKLY_CRON)
  --topics "speech, diffusion"
                             up to 20 words or short phrases; a paper matches when one appears as a
                             whole word or phrase in its title, abstract or keywords; "" = every paper
  --min-upvotes N            only papers with at least N upvotes (0 = all)
  --format full|compact      abstracts and links, or titles, upvotes and links only
  --also-trending N          with topics, also show the day's top N papers outside them (0-10; default 3, 0 = none)

Examples:
  papermail subscribers add ada@example.org --confirmed --cadence weekly --topics "speech, diffusion"
  papermail subscribers set ada@example.org --min-upvotes 5 --format compact`;

interface ChoiceFlags {
  cadence?: string;
  topics?: string;
  minUpvotes?: string;
  format?: string;
  alsoTrending?: string;
}

function choiceOptions(command: Command): Command {
  return command
    .option("--cadence <cadence>", CADENCES.join(" or "))
    .option("--topics <list>", 'comma-separated topics, e.g. "speech, diffusion" ("" for every paper)')
    .option("--min-upvotes <n>", "only papers with at least n upvotes")
    .option("--format <format>", FORMATS.join(" or "))
    .option("--also-trending <n>", "with topics, also show the day's top n papers outside them (0 = none)");
}

/** The choice flags, checked: a bad one is a usage error naming the flag. */
function checkChoiceFlags(flags: ChoiceFlags): Partial<ReaderChoices> {
  const result = parseChoices({ cadence: flags.cadence, topics: flags.topics, minUpvotes: flags.minUpvotes, format: flags.format, alsoTrending: flags.alsoTrending }, "flag");
  if (!result.ok) throw new PapermailError("USAGE", result.error);
  return result.choices;
}

function parseStatus(value: string): SubscriberStatus {
  if (!(STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${STATUSES.join(", ")}`);
  return value as SubscriberStatus;
}

