import type { BounceReason } from "../model/bounce.js";

/*
 * The words and status codes classify.ts judges a bounce by: data only, in the
 * order it checks them. A phrase is matched in the server's words, lower-cased with
 * spaces squeezed; the first rule of a list that matches names the reason.
 */

export type Rule = [BounceReason, readonly string[]];

/**
 * Phrases that name a refusal of our side (the sending host, its domain's
 * authentication, its reputation, the message): checked first, since such
 * refusals often come with a recipient's status code (5.1.1 blocked using ...).
 */
export const SENDER_FIRST: readonly Rule[] = [
  ["authfailure", ["dmarc", "spf", "dkim", "sender policy framework", "unauthenticated", "not authenticated with", "authentication results", "5.7.26", "5.7.23", "5.7.27"]],
  ["requireptr", ["reverse dns", "reverse lookup", "ptr record", "rdns", "no ptr", "5.7.25", "reverse dns lookup", "does not have a ptr"]],
  ["badreputation", ["reputation"]],
  ["virusdetected", ["virus detected", "virus found", "contains a virus", "infected with", "malware"]],
  ["blocked", ["my name was rejected", "helo command rejected", "ehlo command rejected", "spamhaus", "spamcop", "barracuda", "sorbs", "blocklist", "blacklist", "block list", "black list", "dnsbl", "rbl", "blocked using", "is listed", "listed at", "listed on", "client host rejected", "your ip", "sending ip", "not currently accepting mail from"]],
  ["spamdetected", ["spam", "unsolicited", "bulk mail", "bulk email", "junk mail"]],
  ["rejected", ["may not have permission to post", "not have permission to post", "sender address rejected", "sender rejected", "invalid sender", "sender domain", "domain of sender", "sender verify", "sender address", "sender is not", "bad sender", "mail from", "envelope sender", "return path", "return-path", "from address", "sender unknown", "unknown sender", "5.1.7", "5.1.8"]],
  ["norelaying", ["no relaying", "relay access denied", "relaying denied", "relay not permitted", "unable to relay", "relaying not allowed", "not permitted to relay", "relay denied", "we do not relay", "relaying is not allowed", "not allowed to relay"]],
  ["securityerror", ["tls required", "starttls", "encryption required", "must use tls", "authentication required", "5.7.10", "5.7.11"]],
  ["speeding", ["receiving mail at a rate", "at a rate that prevents", "rate limit", "ratelimit", "rate-limit", "too many messages", "sending rate", "exceeded the rate", "throttl", "too many recipients", "sending limit", "message rate"]],
  ["toomanyconn", ["too many connections", "too many concurrent", "connection limit"]],
  ["notcompliantrfc", ["rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "not rfc compliant", "multiple from", "duplicate header", "bare lf", "5.7.30"]],
];

/** The generic words for an unknown recipient, which a filter may say too (a provider's own sentence is trusted). */
export const GENERIC_UNKNOWN = /user unknown|unknown user|no such user|mailbox unavailable/;

/** Trouble on the recipient's side that words name more surely than a status code. */
export const EARLY_TEMPORARY: readonly Rule[] = [
  ["mailererror", ["procmail", "couldn't create", "command died", "mailer error", "unknown mailer error", "exited with"]],
  ["networkerror", ["host not found, try again", "malformed or unexpected name server reply", "name server reply", "mail loops back", "loops back to myself", "too many hops", "routing loop"]],
];

/** Phrases that name the recipient's own state. */
export const RECIPIENT: readonly Rule[] = [
  ["suppressed", ["suppressed sending to this address", "suppression list"]],
  ["mailboxfull", ["mailbox full", "mailbox is full", "full mailbox", "mailfolder is full", "quota", "insufficient storage", "storage space", "storage allocation", "disk space", "not enough space", "no space left", "mailbox size limit", "boite du destinataire pleine", "too much mail data"]],
  ["filtered", ["recipient preferences", "recipient refuses", "blocked by recipient", "does not wish to receive", "refused by the recipient"]],
  ["suspend", ["disabled", "suspended", "deactivated", "inactive", "is locked", "temporary locked", "temporarily locked", "account has been closed", "account closed", "no longer active", "frozen", "archived recipient", "account is blocked", "compte du destinataire est bloque", "5.7.13"]],
  ["hasmoved", ["has been replaced by", "has moved", "no longer at this address"]],
  ["mesgtoobig", ["message too large", "message is too large", "message size exceeds", "message too big", "too big", "exceeds the maximum size", "size limit", "message length exceeds", "exceeds size limit"]],
  ["notaccept", ["not accepting network messages", "does not accept mail", "doesn't accept mail", "null mx", "accepts no mail", "no mx record", "couldn't find a mail exchanger", "could not find a mail exchanger"]],
  ["hostunknown", ["host unknown", "unknown host", "domain not found", "no such domain", "domain does not exist", "host or domain name not found", "unrouteable address", "unroutable address", "host not found", "nxdomain", "domain name not found", "unknown domain", "domain is not reachable", "recipient domain must exist", "invalid domain"]],
  ["userunknown", [
    "user unknown", "unknown user", "no such user", "no such recipient", "no such mailbox", "no such address", "no such person", "mailbox not found",
    "mailbox unavailable", "mailbox is unavailable", "mailbox does not exist", "mailbox not present", "does not exist", "doesn't exist", "not exist",
    "recipient not found", "recipient unknown", "unknown recipient", "recipientnotfound", "invalid recipient", "invalid mailbox", "not a valid mailbox",
    "not a valid recipient", "address not found", "address unknown", "unknown address", "address does not exist", "no mailbox", "user not found",
    "not a known user", "addressee unknown", "bad destination mailbox", "undeliverable address", "recipient rejected", "recipient address rejected: access denied",
    "account unavailable", "no account", "is not a valid user", "unknown local", "utilisateur inconnu", "usuario desconocido", "unbekannt", "not our customer",
    "invalid address", "recipient address rejected: invalid user", "bad recipient", "recipient does not", "unknown or illegal alias", "no valid recipients",
    "not listed in", "user doesn't have", "there is no one at this address", "no longer accepts mail", "recipient address rejected.", "5.1.0 address rejected", "couldn't be found", "could not be found",
    "invalid final delivery", "no smtp service", "見つかりません", "存在しません", "ディレクトリのリストにありません",
  ]],
];

/** Words of a refusal of our side that a recipient's own state never uses: checked last. */
export const SENDER_LAST: readonly Rule[] = [
  ["policyviolation", ["policy", "prohibited", "not allowed", "administrative prohibition"]],
  ["contenterror", ["content", "attachment", "message rejected", "message refused"]],
  ["blocked", ["blocked", "denied", "refused", "rejected", "go away"]],
];

/** Temporary trouble, in the server's words. */
export const TEMPORARY: readonly Rule[] = [
  ["expired", ["expired", "retry timeout exceeded", "could not be delivered for", "too long in queue", "giving up", "delivery time expired", "maximum time"]],
  ["systemfull", ["system full", "insufficient system storage"]],
  ["networkerror", ["timed out", "timeout", "connection refused", "connection reset", "lost connection", "mail loop", "loops back", "too many hops", "routing loop", "network"]],
  ["mailererror", ["mailer", "command failed", "exited with", "procmail", "pipe to"]],
  ["systemerror", ["system error", "internal error", "local error", "temporary failure", "try again", "service unavailable", "server error", "temporarily"]],
];

/** Enhanced status codes that name a reason on their own (RFC 3463, RFC 7372 and the IANA registry). */
export const BY_STATUS: ReadonlyArray<[RegExp, BounceReason]> = [
  [/^\d\.1\.[13]$/, "userunknown"],
  [/^\d\.1\.2$/, "hostunknown"],
  [/^\d\.1\.6$/, "hasmoved"],
  [/^\d\.1\.10$/, "notaccept"],
  [/^\d\.1\.[78]$/, "rejected"],
  [/^\d\.2\.1$/, "suspend"],
  [/^\d\.2\.2$/, "mailboxfull"],
  [/^\d\.2\.3$/, "mesgtoobig"],
  [/^\d\.2\.4$/, "mailererror"],
  [/^\d\.3\.1$/, "systemfull"],
  [/^\d\.3\.4$/, "mesgtoobig"],
  [/^\d\.3\.\d+$/, "systemerror"],
  [/^\d\.4\.7$/, "expired"],
  [/^\d\.4\.4$/, "hostunknown"],
  [/^\d\.4\.\d+$/, "networkerror"],
  [/^\d\.5\.\d+$/, "syntaxerror"],
  [/^\d\.6\.\d+$/, "contenterror"],
  [/^\d\.7\.13$/, "suspend"],
  [/^\d\.7\.(2[0-4]|26)$/, "authfailure"],
  [/^\d\.7\.25$/, "requireptr"],
  [/^\d\.7\.(8|9|10|11|29|30)$/, "securityerror"],
  [/^\d\.7\.28$/, "blocked"],
  [/^\d\.7\.1$/, "policyviolation"],
  [/^\d\.7\.\d+$/, "blocked"],
];
