#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { buildProgram } from "./cli/program.js";
import { EXIT } from "./commands/context.js";
import { describeError, isPapermailError } from "./errors.js";
import { keepShortLivedObjectsYoung } from "./util/heap.js";

async function main(argv: string[]): Promise<void> {
  keepShortLivedObjectsYoung();
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
