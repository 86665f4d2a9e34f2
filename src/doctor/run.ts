import { isIP } from "node:net";
import type { CommandContext } from "../commands/context.js";
import { createDkimSigner } from "../deliver/transport/dkim.js";
import { digestContent } from "../digest/content.js";
import { editionSettings, previewEdition } from "../digest/editions.js";
import { renderDigestMessage, type DigestContent } from "../render/digest-message.js";
import { fromAddress } from "../render/from.js";
import { buildMessageTemplate } from "../render/mime.js";
import { latestDigest } from "../store/digests.js";
import { fail, pass, warn, type Check } from "./check.js";
import { addressesOf, createLookup, isPrivateAddress, type Lookup } from "./dns.js";
import { checkAuthentication, checkListHeaders } from "./message.js";
import { checkDkim, checkDmarc, checkReverseDns, checkSpf, type SenderSetup } from "./records.js";
import { checkTls } from "./relay.js";

/**
 * `papermail doctor`: what the big mailbox providers require of a bulk sender (Gmail
 * and Yahoo's 2024 rules), checked against DNS and a composed digest. Each check says
 * pass, warn or fail, with the record or setting that mends a fail.
 */
export async function runChecks(ctx: Pick<CommandContext, "db" | "config" | "clock">, options: { ip?: string } = {}): Promise<Check[]> {
  const { config } = ctx;
  const lookup = createLookup(config.dnsServers);
  const from = fromAddress(config.from);
  const envelopeFrom = config.bounceAddress ?? from;
  const relayHost = config.smtpUrl ? new URL(config.smtpUrl).hostname.replace(/^\[|\]$/g, "") : undefined;
  const setup: SenderSetup = {
    fromDomain: domainOf(from),
    envelopeDomain: domainOf(envelopeFrom),
    relayHost,
    ip: options.ip ?? (await publicAddressOf(lookup, relayHost)),
    dkim: config.dkim,
  };
  const guarded = async (name: string, check: () => Promise<Check> | Check): Promise<Check> => {
    try {
      return await check();
    } catch (err) {
      return warn(name, `could not be checked: ${(err as Error).message}`, config.dnsServers.length ? "check PAPERMAIL_DNS_SERVERS" : null);
    }
  };
  const checks: Check[] = [];
  checks.push(publicUrlCheck(config.publicUrl, config.publicUrlSet));
  checks.push(fromCheck(setup.fromDomain));
  for (const [name, check] of [
    ["spf", checkSpf],
    ["dkim", checkDkim],
    ["dmarc", checkDmarc],
    ["reverse-dns", checkReverseDns],
  ] as const) {
    checks.push(await guarded(name, () => check(lookup, setup)));
  }
  checks.push(await guarded("tls", () => checkTls(config.smtpUrl)));
  const raw = await composeDigest(ctx);
  if (!raw) {
    checks.push(warn("list-headers", "no digest to compose yet: ingest some dumps first", "papermail ingest"));
  } else {
    checks.push(checkListHeaders(raw, config.dkim !== undefined));
    checks.push(await guarded("authentication", () => checkAuthentication(raw, lookup, setup, envelopeFrom)));
  }
  return checks;
}

function domainOf(address: string): string {
  return (address.split("@")[1] ?? "localhost").toLowerCase();
}

/** The relay's public address: where a receiver sees mail come from when papermail's relay sends it on. */
async function publicAddressOf(lookup: Lookup, host: string | undefined): Promise<string | undefined> {
  if (!host) return undefined;
  if (isIP(host)) return isPrivateAddress(host) ? undefined : host;
  if (host === "localhost") return undefined;
  try {
    return (await addressesOf(lookup, host)).find((ip) => !isPrivateAddress(ip));
  } catch {
    return undefined;
  }
}

/** The From address must be of a real domain: every other check is about that domain. */
function fromCheck(domain: string): Check {
  if (!domain.includes(".") || /(^|\.)(localhost|local|invalid|test|example)$/.test(domain)) {
    return fail("from", `PAPERMAIL_FROM is at ${domain}, which no receiver can check`, "PAPERMAIL_FROM='Papers <digest@your-domain.org>'");
  }
  return pass("from", domain);
}

function publicUrlCheck(url: string, set: boolean): Check {
  const name = "public-url";
  if (!set) return fail(name, `PAPERMAIL_PUBLIC_URL is unset: links in mail point at ${url}, which readers cannot open`, "PAPERMAIL_PUBLIC_URL=https://papers.example.org");
  if (!url.startsWith("https://")) return fail(name, `${url} is not https: Gmail and Yahoo want one-click unsubscribe links over https`, `PAPERMAIL_PUBLIC_URL=${url.replace(/^http:/, "https:")}`);
  return pass(name, url);
}

/** The latest digest's message (or the next edition's), built as a reader's is and signed as it would be. */
async function composeDigest(ctx: Pick<CommandContext, "db" | "config" | "clock">): Promise<Buffer | undefined> {
  const { db, config } = ctx;
  let content: DigestContent | undefined;
  const latest = latestDigest(db);
  if (latest) content = digestContent(db, latest.id);
  else {
    const at = ctx.clock.now().toISOString();
    const next = previewEdition(db, { edition: "daily", ...editionSettings(config), at });
    if (next.papers.length > 0) content = { edition: "daily", papers: next.papers, days: next.days, createdAt: at };
  }
  if (!content) return undefined;
  const message = await renderDigestMessage(config, content);
  const domain = domainOf(fromAddress(config.from));
  const chunks = buildMessageTemplate(message, message.headers).personalise({
    to: `doctor@${domain}`,
    messageId: `doctor-${Date.now().toString(36)}@${domain}`,
    unsubscribeUrl: `${config.publicUrl}/unsubscribe/DOCTOR`,
    preferencesUrl: `${config.publicUrl}/preferences/DOCTOR`,
  });
  return Buffer.concat(config.dkim ? createDkimSigner(config.dkim)(chunks) : chunks);
}
