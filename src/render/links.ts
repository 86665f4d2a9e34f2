import type { Config } from "../config/load.js";
import { preferencesToken } from "../util/tokens.js";
import type { DigestLinks } from "./digest-view.js";

/** The links of a digest, from the public base URL (the archive's list for a digest not frozen yet). */
export function digestLinks(config: Config, digestId?: number): DigestLinks {
  const archiveUrl = digestId === undefined ? `${config.publicUrl}/digests` : `${config.publicUrl}/digests/${digestId}`;
  return { siteUrl: `${config.publicUrl}/`, archiveUrl, feedUrl: `${config.publicUrl}/feed.xml` };
}

/** A reader's preferences page, signed for them: the same link in every email they get. */
export function preferencesLink(config: Pick<Config, "publicUrl">, secret: string, subscriberId: number): string {
  return `${config.publicUrl}/preferences/${preferencesToken(secret, subscriberId)}`;
}

/** `papermail digest <digest.HOST>` for the List-Id header. */
export function listId(config: Config): string {
  return `papermail digest <digest.${new URL(config.publicUrl).hostname}>`;
}

/** A paper's own page on this site: stable for as long as the paper is stored. */
export function paperPageUrl(config: Pick<Config, "publicUrl">, slug: string): string {
  return `${config.publicUrl}/papers/${encodeURIComponent(slug)}`;
}
