import { Resolver } from "node:dns/promises";
import { getDomain } from "tldts";

/** A DNS lookup as mailauth calls it: a name and a record type, answered as node:dns answers. */
export type Lookup = (name: string, type: string) => Promise<unknown>;

/** How long one DNS question may take before it counts as unanswered. */
const DNS_TIMEOUT_MS = 5_000;

/** A resolver asking PAPERMAIL_DNS_SERVERS (or the system's), with a timeout per question. */
export function createLookup(servers: readonly string[]): Lookup {
  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return (name, type) => resolver.resolve(name, type as "TXT");
}

/** The TXT records of a name, each joined from its strings; none when the name or the records do not exist. */
export async function txtRecords(lookup: Lookup, name: string): Promise<string[]> {
  try {
    return ((await lookup(name, "TXT")) as string[][]).map((chunks) => chunks.join(""));
  } catch (err) {
    if (isNoRecord(err)) return [];
    throw err;
  }
}

/** Addresses (A and AAAA) of a name; none when it has none. */
export async function addressesOf(lookup: Lookup, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const type of ["A", "AAAA"]) {
    try {
      out.push(...((await lookup(name, type)) as string[]));
    } catch (err) {
      if (!isNoRecord(err)) throw err;
    }
  }
  return out;
}

/** The names an address's reverse zone gives (PTR). */
export async function reverseNames(lookup: Lookup, ip: string): Promise<string[]> {
  try {
    return (await lookup(reverseName(ip), "PTR")) as string[];
  } catch (err) {
    if (isNoRecord(err)) return [];
    throw err;
  }
}

function reverseName(ip: string): string {
  if (ip.includes(":")) {
    const [head = "", tail = ""] = ip.split("::");
    const groups = (s: string) => (s ? s.split(":") : []);
    const missing = 8 - groups(head).length - groups(tail).length;
    const full = [...groups(head), ...Array(ip.includes("::") ? missing : 0).fill("0"), ...groups(tail)].map((g) => g.padStart(4, "0")).join("");
    return `${[...full].reverse().join(".")}.ip6.arpa`;
  }
  return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
}

export function isNoRecord(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ENOTFOUND" || code === "ENODATA" || code === "NXDOMAIN";
}

/** The registered domain of a name (example.co.uk for mail.example.co.uk): what DMARC's relaxed alignment compares. */
export function organisationalDomain(name: string): string {
  return getDomain(name, { allowPrivateDomains: true }) ?? name;
}

/** True for loopback and private addresses: no one outside sees mail leave from them. */
export function isPrivateAddress(ip: string): boolean {
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|0\.)/.test(ip) || ip === "::1" || /^f[cd]/i.test(ip) || /^fe80:/i.test(ip);
}
