import { writeFileSync } from "node:fs";
import { buildFeed, type FeedFilter, type FeedFormat } from "../server/routes/feed.js";
import { displayPath, EXIT, type CommandContext } from "./context.js";

/** `papermail feed [--format rss|atom|json] [--topics T] [--min-upvotes N] [--out FILE]`: what /feed.xml, /feed.atom and /feed.json serve. */
export function runFeed(ctx: CommandContext, flags: { out?: string; format: FeedFormat; filter: FeedFilter }): number {
  const { body } = buildFeed(ctx.db, ctx.config, flags.format, flags.filter);
  if (flags.out) {
    writeFileSync(flags.out, body);
    ctx.err(`Wrote ${displayPath(flags.out)}.`);
  } else ctx.out(body.replace(/\n$/, ""));
  return EXIT.ok;
}
