import { createPrivateKey, createPublicKey } from "node:crypto";
import { fail, pass, warn, type Check } from "./check.js";
import { addressesOf, organisationalDomain, reverseNames, txtRecords, type Lookup } from "./dns.js";

/** What the DNS checks need to know about the sending setup. */
export interface SenderSetup {
  fromDomain: string;
  /** The envelope sender's domain (PAPERMAIL_BOUNCE_ADDRESS, else From): what SPF is checked for. */
  envelopeDomain: string;
  /** The relay's host name, when mail goes over SMTP. */
  relayHost: string | undefined;
  /** The public address mail leaves from, when known. */
  ip: string | undefined;
  dkim: { domainName: string; keySelector: string; privateKey: string } | undefined;
}

/** The SPF mechanism a relay's customers publish (its include), else the sending address. */
export function spfMechanism(setup: SenderSetup): string {
  const host = setup.relayHost ?? "";
  const includes: Array<[RegExp, string]> = [
    [/amazonaws\.com$/, "include:amazonses.com"],
    [/postmarkapp\.com$/, "include:spf.mtasv.net"],
    [/mailgun\.(org|net)$/, "include:mailgun.org"],
    [/sendgrid\.net$/, "include:sendgrid.net"],
    [/(gmail|google|googlemail)\.com$/, "include:_spf.google.com"],
    [/(office365|outlook)\.com$/, "include:spf.protection.outlook.com"],
  ];
  const known = includes.find(([re]) => re.test(host));
  if (known) return known[1];
  if (setup.ip) return `${setup.ip.includes(":") ? "ip6" : "ip4"}:${setup.ip}`;
  return "a mx";
}

/** SPF: one v=spf1 record for the envelope domain (the evaluation against the sending address is the dry run's). */
export async function checkSpf(lookup: Lookup, setup: SenderSetup): Promise<Check> {
  const name = "spf";
  const records = (await txtRecords(lookup, setup.envelopeDomain)).filter((t) => /^v=spf1(\s|$)/i.test(t));
  const wanted = `${setup.envelopeDomain}. TXT "v=spf1 ${spfMechanism(setup)} ~all"`;
  if (records.length === 0) return fail(name, `${setup.envelopeDomain} publishes no SPF record: receivers cannot tell which servers may send its mail`, `publish ${wanted}`);
  if (records.length > 1) return fail(name, `${setup.envelopeDomain} publishes ${records.length} SPF records; receivers treat that as an error (permerror)`, `merge them into one: ${wanted}`);
  const record = records[0]!;
  if (/\s\+?all(\s|$)/i.test(record)) return fail(name, `${setup.envelopeDomain}'s SPF record ends in +all: anyone may send as it`, `publish ${wanted}`);
  return pass(name, `${setup.envelopeDomain}: "${record}"`);
}

/** The p= of a DKIM record, or undefined. */
function dkimKeyOf(record: string): string | undefined {
  const m = /(?:^|;)\s*p=([^;]*)/i.exec(record);
  return m ? m[1]!.replace(/\s+/g, "") : undefined;
}

/** DKIM: the public key published at SELECTOR._domainkey.DOMAIN is the one of PAPERMAIL_DKIM_KEY_FILE. */
export async function checkDkim(lookup: Lookup, setup: SenderSetup): Promise<Check> {
  const name = "dkim";
  if (!setup.dkim) {
    return warn(
      name,
      "papermail does not sign (PAPERMAIL_DKIM_DOMAIN, _SELECTOR, _KEY_FILE unset): fine only if your relay signs with your domain (SES Easy DKIM, Postmark, Mailgun and SendGrid do once their DNS records are in)",
      "set PAPERMAIL_DKIM_DOMAIN, PAPERMAIL_DKIM_SELECTOR and PAPERMAIL_DKIM_KEY_FILE, or turn on your relay's DKIM for your domain",
    );
  }
  const { domainName, keySelector } = setup.dkim;
  const publicKey = createPublicKey(createPrivateKey(setup.dkim.privateKey));
  const ours = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const type = publicKey.asymmetricKeyType === "ed25519" ? "ed25519" : "rsa";
  const record = `${keySelector}._domainkey.${domainName}`;
  const wanted = `${record}. TXT "v=DKIM1; k=${type}; p=${ours}"`;
  const published = (await txtRecords(lookup, record)).map(dkimKeyOf).filter((k): k is string => k !== undefined);
  if (published.length === 0) return fail(name, `no DKIM key at ${record}: every signature fails`, `publish ${wanted}`);
  if (!published.includes(ours)) return fail(name, `the key at ${record} is not the public half of PAPERMAIL_DKIM_KEY_FILE: every signature fails`, `publish ${wanted}`);
  if (organisationalDomain(domainName) !== organisationalDomain(setup.fromDomain)) {
    return warn(name, `the key at ${record} matches, but ${domainName} is not aligned with From (${setup.fromDomain}): DMARC cannot pass through DKIM`, `sign for ${setup.fromDomain}: PAPERMAIL_DKIM_DOMAIN=${setup.fromDomain}`);
  }
  return pass(name, `the key at ${record} matches PAPERMAIL_DKIM_KEY_FILE, and ${domainName} is aligned with From`);
}

/** DMARC: a policy for the From domain (or its organisational domain), and SPF or DKIM aligned with From. */
export async function checkDmarc(lookup: Lookup, setup: SenderSetup): Promise<Check> {
  const name = "dmarc";
  const org = organisationalDomain(setup.fromDomain);
  let records = (await txtRecords(lookup, `_dmarc.${setup.fromDomain}`)).filter((t) => /^v=DMARC1(\s*;|$)/i.test(t));
  if (records.length === 0 && org !== setup.fromDomain) records = (await txtRecords(lookup, `_dmarc.${org}`)).filter((t) => /^v=DMARC1(\s*;|$)/i.test(t));
  if (records.length === 0) {
    return fail(name, `no DMARC record for ${setup.fromDomain}: Gmail and Yahoo require one of bulk senders`, `publish _dmarc.${org}. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@${org}"`);
  }
  const policy = /(?:^|;)\s*p=([a-z]+)/i.exec(records[0]!)?.[1]?.toLowerCase() ?? "none";
  const spfAligned = organisationalDomain(setup.envelopeDomain) === org;
  const dkimAligned = setup.dkim !== undefined && organisationalDomain(setup.dkim.domainName) === org;
  if (!spfAligned && !dkimAligned) {
    return fail(
      name,
      `DMARC (p=${policy}) is published, but neither the envelope sender (${setup.envelopeDomain}) nor a DKIM signature of papermail's is aligned with From (${setup.fromDomain})`,
      `send bounces to your own domain (PAPERMAIL_BOUNCE_ADDRESS=bounces@${org}, with its SPF record), or sign for it (PAPERMAIL_DKIM_DOMAIN=${setup.fromDomain})`,
    );
  }
  return pass(name, `p=${policy}; aligned with From through ${[spfAligned ? "SPF" : "", dkimAligned ? "DKIM" : ""].filter(Boolean).join(" and ")}`);
}

/** Reverse DNS: the sending address has a PTR name whose addresses include it again (forward-confirmed). */
export async function checkReverseDns(lookup: Lookup, setup: SenderSetup): Promise<Check> {
  const name = "reverse-dns";
  if (!setup.ip) {
    return warn(name, "the address mail leaves from is not known (no relay, or one on this machine or a private network)", "run `papermail doctor --ip ADDRESS` with the public address your mail leaves from");
  }
  const names = await reverseNames(lookup, setup.ip);
  const host = `mail.${organisationalDomain(setup.fromDomain)}`;
  if (names.length === 0) return fail(name, `${setup.ip} has no reverse DNS (PTR) name: many receivers refuse such senders`, `ask whoever owns ${setup.ip} (your host or provider) to set its PTR to ${host}, and publish ${host}. A ${setup.ip}`);
  for (const ptr of names) {
    if ((await addressesOf(lookup, ptr)).includes(setup.ip)) return pass(name, `${setup.ip} is ${ptr}, which points back to it`);
  }
  return fail(name, `${setup.ip} is ${names.join(", ")}, but ${names.length === 1 ? "that name does" : "those names do"} not point back to it`, `publish ${names[0]}. ${setup.ip.includes(":") ? "AAAA" : "A"} ${setup.ip}`);
}
