import type { BounceKind, BounceReason } from "../../model/bounce.js";

/** One recipient a report is about, and what it says of them. */
export interface ReportEntry {
  /** The address the report names (Final-Recipient, else Original-Recipient), when it names a usable one. */
  recipient: string | null;
  /** Other addresses the report gives for the same recipient (Original-Recipient behind a Final-Recipient). */
  alternates: string[];
  reason: BounceReason;
  kind: BounceKind;
  /** The enhanced status code (5.1.1), else the reply code (550), when given. */
  statusCode: string | null;
  /** The server's words, short. */
  detail: string;
}

/** What in a report may tie it to a message papermail sent: checked against the secrets and the ledger later. */
export interface ReportEvidence {
  /** Addresses the report was delivered to (To, Delivered-To, X-Original-To, ...): our VERP address, if any. */
  envelope: string[];
  /** Message-IDs of the returned message, and those the report itself refers to. */
  messageIds: string[];
  /** Signed unsubscribe tokens found in the returned message. */
  unsubscribeTokens: string[];
}

export type ReportShape = "dsn" | "arf" | "ses" | "text" | "auto-reply" | "postmark" | "mailgun" | "sendgrid";

export type ReadReport =
  | { recognised: true; key: string; shape: ReportShape; entries: ReportEntry[]; evidence: ReportEvidence }
  | { recognised: false; key: string; reason: string };

/** The server's words kept per entry. */
export const DETAIL_LIMIT = 300;
export const MAX_ENTRIES = 100;

export function codeText(code: number | undefined): string | null {
  return code === undefined ? null : String(code);
}

/** Words squeezed to one line, as short as an entry's detail. */
export function squeeze(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, DETAIL_LIMIT);
}

/** The words of an explanation about one address: from where it is named, up to the next address of `all`. */
export function textNear(explanation: string, address: string | null, all: readonly string[] = []): string {
  if (!address) return "";
  const lower = explanation.toLowerCase();
  const at = lower.indexOf(address);
  if (at === -1) return "";
  const others = all.filter((a) => a !== address).map((a) => lower.indexOf(a, at + 1)).filter((i) => i > at);
  return explanation.slice(at, Math.min(at + 1000, ...others));
}
