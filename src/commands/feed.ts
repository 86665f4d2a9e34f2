import { writeFileSync } from "node:fs";
import { buildFeed } from "../server/feed-route.js";
import { displayPath, EXIT, type CommandContext } from "./context.js";

/** `papermail feed [--out FILE]`: the XML that /feed.xml serves. */
export function runFeed(ctx: CommandContext, flags: { out?: string }): number {
  const { xml } = buildFeed(ctx.db, ctx.config);
  if (flags.out) {
    writeFileSync(flags.out, xml);
    ctx.err(`Wrote ${displayPath(flags.out)}.`);
  } else ctx.out(xml);
  return EXIT.ok;
}
