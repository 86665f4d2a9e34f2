import { kindOf, type BounceReason, type Judgement } from "../model/bounce.js";

/** What a failure report or a server's refusal says about one recipient. */
export interface FailureFacts {
  /** The enhanced status code (RFC 3463), such as 5.1.1, when given. */
  status?: string | null;
  /** The SMTP reply code, such as 550, when given. */
  replyCode?: number | null;
  /** The server's words: a Diagnostic-Code, a reply, a bounce's explanation. */
  text: string;
  /** The SMTP command that was refused, when known (else read from the words). */
  command?: SmtpCommand;
}


/** The SMTP step a refusal answered, when papermail itself was talking to the server. */
export type SmtpStep = "mail" | "rcpt" | "data" | "end-of-data";

/** The server's words are read this far: judgement stays linear whatever a bounce holds. */
const TEXT_LIMIT = 4000;

type Rule = [BounceReason, readonly string[]];

/**
 * Phrases that name a refusal of our side (the sending host, its domain's
 * authentication, its reputation, the message): checked first, since such
 * refusals often come with a recipient's status code (5.1.1 blocked using ...).
 */
const SENDER_FIRST: readonly Rule[] = [
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
const GENERIC_UNKNOWN = /user unknown|unknown user|no such user|mailbox unavailable/;

/** Trouble on the recipient's side that words name more surely than a status code. */
const EARLY_TEMPORARY: readonly Rule[] = [
  ["mailererror", ["procmail", "couldn't create", "command died", "mailer error", "unknown mailer error", "exited with"]],
  ["networkerror", ["host not found, try again", "malformed or unexpected name server reply", "name server reply", "mail loops back", "loops back to myself", "too many hops", "routing loop"]],
];

/** Phrases that name the recipient's own state. */
const RECIPIENT: readonly Rule[] = [
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
const SENDER_LAST: readonly Rule[] = [
  ["policyviolation", ["policy", "prohibited", "not allowed", "administrative prohibition"]],
  ["contenterror", ["content", "attachment", "message rejected", "message refused"]],
  ["blocked", ["blocked", "denied", "refused", "rejected", "go away"]],
];

/** Temporary trouble, in the server's words. */
const TEMPORARY: readonly Rule[] = [
  ["expired", ["expired", "retry timeout exceeded", "could not be delivered for", "too long in queue", "giving up", "delivery time expired", "maximum time"]],
  ["systemfull", ["system full", "insufficient system storage"]],
  ["networkerror", ["timed out", "timeout", "connection refused", "connection reset", "lost connection", "mail loop", "loops back", "too many hops", "routing loop", "network"]],
  ["mailererror", ["mailer", "command failed", "exited with", "procmail", "pipe to"]],
  ["systemerror", ["system error", "internal error", "local error", "temporary failure", "try again", "service unavailable", "server error", "temporarily"]],
];

/** Enhanced status codes that name a reason on their own (RFC 3463, RFC 7372 and the IANA registry). */
const BY_STATUS: ReadonlyArray<[RegExp, BounceReason]> = [
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

/** The SMTP command a refusal answered, as bounces tell it ("in reply to end of DATA command", ">>> DATA", "after RCPT TO:"). */
export type SmtpCommand = "connect" | "mail" | "rcpt" | "data";

/** Mentions that come before the refused reply (">>> DATA", "after RCPT TO:") and after it ("in reply to DATA command"). */
const COMMAND_BEFORE = /(?:after (?:end of )?|>>> ?|did not like our )(data|rcpt to|mail from|rcpt|helo|ehlo|initial connection|connect)\b/gi;
const COMMAND_AFTER = /(?:in reply to (?:end of )?|smtp command:?\s*|\[)(data|rcpt[ _]to|mail[ _]from|rcpt|helo|ehlo)\b/gi;
const FAILURE_REPLY = /(?:^|[^\d.])[45]\d\d(?:[ -]|$)/m;

function commandName(c: string): SmtpCommand {
  const name = c.toLowerCase();
  return name === "data" ? "data" : name.startsWith("rcpt") ? "rcpt" : name.startsWith("mail") ? "mail" : "connect";
}

/**
 * The SMTP command a failure reply answered, as bounces tell it: the last command
 * sent before the first failure reply (">>> RCPT To:", "after RCPT TO:"), or the one
 * named right after it ("... (in reply to end of DATA command)").
 */
export function findCommand(text: string): SmtpCommand | undefined {
  const t = text.slice(0, TEXT_LIMIT);
  // A session transcript: the command right before the failure reply (">>> DATA" then "<<< 550 ...").
  const transcript = /^>>> ?(data|rcpt to|mail from|helo|ehlo)\b[^\n]*\r?\n<<< ?[45]\d\d/im.exec(t);
  if (transcript) return commandName(transcript[1]!);
  const anchor = FAILURE_REPLY.exec(t)?.index ?? t.length;
  let before: SmtpCommand | undefined;
  for (const m of t.matchAll(COMMAND_BEFORE)) if (m.index! < anchor) before = commandName(m[1]!);
  const after = [...t.matchAll(COMMAND_AFTER)].find((m) => m.index! > anchor);
  return after ? commandName(after[1]!) : before;
}

/** The server's words in one form: lower case, spaces collapsed, at most TEXT_LIMIT characters. */
function normalise(text: string): string {
  return (
    text
      .slice(0, TEXT_LIMIT * 2)
      .toLowerCase()
      .replace(/\s+/g, " ")
      // Amazon SES wraps the receiving server's words in its own: those words decide.
      .replace(/unknown address error|other mail system problem/g, " ")
      .slice(0, TEXT_LIMIT)
  );
}

function firstMatch(rules: readonly Rule[], text: string): BounceReason | undefined {
  for (const [reason, phrases] of rules) if (phrases.some((p) => text.includes(p))) return reason;
  return undefined;
}

/** The enhanced status code in a server's words, such as 5.1.1 (RFC 3463). */
export function findStatus(text: string): string | undefined {
  return /(?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(text.slice(0, TEXT_LIMIT))?.[1];
}

/** The SMTP reply code a server's words start with (or name), such as 550. */
export function findReplyCode(text: string): number | undefined {
  const m = /(?:^|[\s:;(])([245]\d\d)(?=[\s-]|$)/.exec(text.slice(0, TEXT_LIMIT));
  return m ? Number(m[1]) : undefined;
}

/**
 * Judges one failed delivery from its status code and its words together, not from
 * the class digit alone: refusals of our side first (they often carry a recipient's
 * code), then the recipient's own state, then the status code, then temporary
 * trouble. A temporary status (4.x.x) never makes a hard bounce.
 */
export function judgeFailure(facts: FailureFacts): Judgement {
  const text = normalise(facts.text);
  const status = facts.status ?? findStatus(text) ?? null;
  const replyCode = facts.replyCode ?? findReplyCode(text) ?? null;
  const temporary = status ? status.startsWith("4") : replyCode !== null && replyCode < 500;
  const byStatus = status ? BY_STATUS.find(([re]) => re.test(status))?.[1] : undefined;
  // A code that names the recipient's own state (5.1.1, 5.2.2) decides before a generic word
  // of refusal ("rejected"), but never before a named refusal of our side (spamhaus, DMARC).
  const reason =
    firstMatch(SENDER_FIRST, text) ??
    firstMatch(EARLY_TEMPORARY, text) ??
    firstMatch(RECIPIENT, text) ??
    (byStatus && kindOf(byStatus) !== "sender" ? byStatus : undefined) ??
    firstMatch(SENDER_LAST, text) ??
    byStatus ??
    firstMatch(TEMPORARY, text) ??
    "undefined";
  // A recipient's own state is told at RCPT TO. Said in reply to MAIL FROM it is about the
  // sender; in reply to DATA it is a filter's answer to the message (mobile carriers say
  // "user unknown" for a reader's own block list).
  const command = facts.command ?? findCommand(text);
  if (kindOf(reason) === "hard" && reason !== "suppressed") {
    // Codes that name the recipient's state outright (moved, null MX, disabled) stand over a generic phrase.
    if (reason === "userunknown" && (byStatus === "hasmoved" || byStatus === "notaccept")) return judged(byStatus, temporary);
    if (reason === "userunknown" && command !== "rcpt" && GENERIC_UNKNOWN.test(text)) {
      // "User unknown" after the message, not at RCPT TO, is a filter's answer to the message
      // (Japan's mobile carriers say so for a sender the reader blocked), unless a 5.1.1 says
      // plainly that the mailbox does not exist. So is "550 : User unknown" with no address
      // (the carriers' domain filter), and "user unknown" under a mailbox-status or policy
      // code (5.2.0, 5.2.1, 5.7.1), which contradicts itself.
      const explicit = status !== null && /^5\.1\.1$/.test(status);
      if (command === "data" && !explicit) return { reason: "filtered", kind: "sender" };
      if (/(^|\s)550:? ?: user unknown/.test(text)) return { reason: "filtered", kind: "sender" };
      if (status && /^\d\.(2\.[01]|7\.\d+)$/.test(status)) return { reason: "filtered", kind: "sender" };
      // Otherwise a plain "550 User unknown" (5.0.0, 5.5.0 or no code at all) is what most
      // servers say of a mailbox that does not exist: the recipient's own, hard.
    }
    if (command === "mail") return { reason: "rejected", kind: "sender" };
  }
  return judged(reason, temporary);
}

/** A reason's kind, where a temporary failure of the recipient is at worst soft. */
function judged(reason: BounceReason, temporary: boolean): Judgement {
  const kind = kindOf(reason);
  return { reason, kind: temporary && kind === "hard" ? "soft" : kind };
}

/**
 * Judges a feedback report by its type (RFC 5965): abuse, fraud and opt-out are the
 * reader's complaint; an auth-failure report is about our authentication; not-spam
 * and anything else change nothing.
 */
export function judgeFeedback(type: string | null | undefined): Judgement {
  const t = (type ?? "").trim().toLowerCase();
  if (t === "" || t === "abuse" || t === "fraud" || t === "opt-out" || t === "opt-out-list" || t === "complaint") return { reason: "feedback", kind: "complaint" };
  if (t === "auth-failure" || t === "dmarc") return { reason: "authfailure", kind: "sender" };
  if (t === "virus") return { reason: "virusdetected", kind: "sender" };
  return { reason: "not-spam", kind: "not-a-bounce" };
}

/**
 * Judges a refusal papermail heard itself. MAIL FROM and DATA have no recipient of
 * their own: a refusal there is about the sender or the message. At RCPT TO, and for
 * the reply to the end of the data (one recipient per message), the words decide;
 * after the data only a clear statement about the recipient counts as theirs.
 */
export function judgeSmtpRefusal(step: SmtpStep, replyCode: number | undefined, reply: string): Judgement {
  const judgement = judgeFailure({ replyCode, text: reply });
  if (step === "rcpt") return judgement;
  if (step === "end-of-data" && judgement.kind === "hard") return judgement;
  if (judgement.kind === "sender") return judgement;
  return { reason: step === "mail" ? "rejected" : "contenterror", kind: "sender" };
}
