import { InvalidArgumentError, type Command } from "commander";
import { readFileSync } from "node:fs";
import { PapermailError } from "../errors.js";
import { checkAddress } from "../subscribers/address.js";
import { readAddressList } from "../subscribers/import.js";
import { addSubscriber, findSubscriberByEmail, forgetSubscriber, listSubscribers, unsubscribe, type SubscriberStatus } from "../store/subscribers.js";
import { sendConfirmation } from "../subscribers/confirm.js";
import { EXIT, printJson, type CommandContext } from "./context.js";

type WithContext = (run: (ctx: CommandContext) => number | Promise<number>) => Promise<void>;
const STATUSES = ["pending", "active", "unsubscribed"] as const;

/** Registers `papermail subscribers add|remove|list|import|export`. */
export function registerSubscriberCommands(program: Command, withContext: WithContext): void {
  const subscribers = program
    .command("subscribers")
    .description("manage who gets the digest (statuses: pending, active, unsubscribed)")
    .addHelpText("after", "\nAddresses must be one plain address (name@example.org): no display names, quotes, comments or commas.");

  subscribers
    .command("add")
    .description("add addresses; without --confirmed each gets a confirmation email and stays pending until they click it")
    .argument("<email...>", "addresses to add")
    .option("--confirmed", "add them as active at once (they asked you directly)")
    .option("--json", "print one JSON document")
    .action((emails: string[], opts: { confirmed?: boolean; json?: boolean }) =>
      withContext((ctx) => runAdd(ctx, emails, Boolean(opts.confirmed), Boolean(opts.json))),
    );

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
      withContext((ctx) => {
        const rows = listSubscribers(ctx.db, opts.status);
        if (opts.json) printJson(ctx, rows);
        else if (rows.length === 0) ctx.out("No subscribers yet: add some with `papermail subscribers add EMAIL`.");
        else for (const s of rows) ctx.out(`${s.status.padEnd(13)} ${s.email}`);
        return EXIT.ok;
      }),
    );

  subscribers
    .command("import")
    .description("add many addresses from FILE (or - for standard input): one per line, or a CSV with an `email` column")
    .argument("<file>", "file to read, or - for standard input")
    .option("--confirmed", "add them as active at once (without it they are added as pending and sent a confirmation email)")
    .option("--json", "print one JSON document")
    .action((file: string, opts: { confirmed?: boolean; json?: boolean }) =>
      withContext((ctx) => runImport(ctx, file, Boolean(opts.confirmed), Boolean(opts.json))),
    );

  subscribers
    .command("export")
    .description("print subscribers as CSV (email,status,created_at,confirmed_at,unsubscribed_at)")
    .option("--status <status>", `only one status: ${STATUSES.join(", ")}`, parseStatus)
    .action((opts: { status?: SubscriberStatus }) =>
      withContext((ctx) => {
        ctx.out("email,status,created_at,confirmed_at,unsubscribed_at");
        for (const s of listSubscribers(ctx.db, opts.status)) {
          ctx.out([s.email, s.status, s.createdAt, s.confirmedAt ?? "", s.unsubscribedAt ?? ""].map(csvField).join(","));
        }
        return EXIT.ok;
      }),
    );
}

async function runAdd(ctx: CommandContext, emails: string[], confirmed: boolean, json: boolean): Promise<number> {
  const results: Array<{ email: string; result: string; error?: string }> = [];
  for (const input of emails) {
    const check = checkAddress(input);
    if (!check.ok) {
      results.push({ email: input, result: "refused", error: `"${input}" ${check.reason}` });
      continue;
    }
    results.push({ email: check.address, result: await addOne(ctx, check.address, confirmed) });
  }
  if (json) printJson(ctx, results);
  else for (const r of results) (r.error ? ctx.err : ctx.out)(r.error ? `refused: ${r.error}` : `${r.result.padEnd(9)} ${r.email}`);
  return results.some((r) => r.error) ? EXIT.rejected : EXIT.ok;
}

/** Adds one checked address; unconfirmed ones get a confirmation email. */
async function addOne(ctx: CommandContext, email: string, confirmed: boolean): Promise<string> {
  const at = ctx.clock.now().toISOString();
  const result = addSubscriber(ctx.db, email, confirmed ? "active" : "pending", at, "cli");
  if (confirmed) return result;
  const sub = findSubscriberByEmail(ctx.db, email)!;
  if (sub.status === "active") return "exists";
  const sent = await sendConfirmation(ctx, sub);
  return sent === "sent" ? "pending (confirmation sent)" : `pending (${sent})`;
}

function runRemove(ctx: CommandContext, input: string, forget: boolean): number {
  const check = checkAddress(input);
  if (!check.ok) throw new PapermailError("BAD_ADDRESS", `"${input}" ${check.reason}`);
  const sub = findSubscriberByEmail(ctx.db, check.address);
  if (!sub) throw new PapermailError("NOT_FOUND", `${check.address} is not a subscriber`);
  if (forget) {
    forgetSubscriber(ctx.db, sub.id);
    ctx.out(`forgot ${check.address}`);
  } else {
    const changed = unsubscribe(ctx.db, sub.id, ctx.clock.now().toISOString());
    ctx.out(changed ? `unsubscribed ${check.address}` : `${check.address} was already unsubscribed`);
  }
  return EXIT.ok;
}

async function runImport(ctx: CommandContext, file: string, confirmed: boolean, json: boolean): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new PapermailError("NOT_FOUND", `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const { addresses, problems } = readAddressList(text);
  const counts = { added: 0, activated: 0, exists: 0 };
  if (confirmed) {
    // One transaction: thousands of addresses land at once, or none on a crash.
    ctx.db.transaction(() => {
      const at = ctx.clock.now().toISOString();
      for (const a of addresses) counts[addSubscriber(ctx.db, a, "active", at, "import")]++;
    })();
  } else {
    for (const a of addresses) {
      const r = await addOne(ctx, a, false);
      counts[r === "exists" ? "exists" : "added"]++;
    }
  }
  const name = file === "-" ? "stdin" : file;
  if (json) printJson(ctx, { ...counts, refused: problems.length, problems });
  else {
    for (const p of problems) ctx.err(`${name}:${p.line}: "${p.value}" ${p.reason}`);
    ctx.out(`${counts.added} added, ${counts.activated} activated, ${counts.exists} already there, ${problems.length} refused.`);
  }
  return problems.length > 0 ? EXIT.rejected : EXIT.ok;
}

function parseStatus(value: string): SubscriberStatus {
  if (!(STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${STATUSES.join(", ")}`);
  return value as SubscriberStatus;
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
