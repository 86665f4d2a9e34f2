import { Command } from "commander";
import { readFileSync } from "node:fs";
import { SETTINGS, shownDefault } from "../config/settings.js";
import { registerOperatorCommands } from "./operator-commands.js";
import { registerPaperCommands } from "./paper-commands.js";
import { registerSendCommands } from "./send-commands.js";
import { registerSubscriberCommands } from "./subscriber-commands.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** The settings, under the top-level help: the same table the configuration is read by. */
const ENV_HELP = `\nEnvironment (also read from ./.env; the environment wins):\n${SETTINGS.map(
  (v) => `  ${v.name.padEnd(28)} ${v.help}\n  ${"".padEnd(28)} default: ${shownDefault(v)}`,
).join("\n")}\n\nExit codes: 0 ok, 1 some input was rejected or a send failed, 2 bad usage or configuration.`;

/** Builds the `papermail` program: each group of commands registers itself, in the order --help lists them. */
export function buildProgram(): Command {
  const program = new Command("papermail")
    .description("Publish the Hugging Face Daily Papers page as an email digest and an RSS feed.")
    .version(version)
    .showHelpAfterError("(run with --help for usage)")
    // Options after a subcommand are its own: `papers purge --unsent` is not `papers --unsent`.
    .enablePositionalOptions()
    .addHelpText("after", ENV_HELP);
  registerPaperCommands(program);
  registerSubscriberCommands(program);
  registerSendCommands(program);
  registerOperatorCommands(program);
  return program;
}
