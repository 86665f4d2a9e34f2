import { kindOf, type BounceReason, type Judgement } from "../model/bounce.js";
import { BY_STATUS, EARLY_TEMPORARY, GENERIC_UNKNOWN, RECIPIENT, SENDER_FIRST, SENDER_LAST, TEMPORARY, type Rule } from "./phrase-rules.js";

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
  if (kindOf(reason) === "hard") {
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
