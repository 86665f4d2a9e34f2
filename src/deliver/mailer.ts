import type { Config } from "../config.js";
import { createOutboxMailer } from "./outbox-mailer.js";
import { createSmtpMailer } from "./smtp-mailer.js";

/** One message for one recipient, already personalised. */
export interface OutgoingMessage {
  /** Envelope sender. */
  from: string;
  /** Envelope recipient. */
  to: string;
  /** The message in pieces (CRLF line ends), sent or written without joining them. */
  raw: readonly Buffer[];
  /** A file-system-safe name for outbox files. */
  name: string;
}

/**
 * What became of one message. The ledger decides what to do with it:
 * - sent: the server said 250 (or the outbox file is written);
 * - retry: temporary (4xx, or the connection went before the message was complete);
 * - failed: permanent (5xx), with the server's reply;
 * - unknown: the connection went after the whole message was sent; it may have arrived.
 * `unreachable` marks a retry because no connection could be made at all.
 */
export type SendOutcome =
  | { status: "sent"; response: string }
  | { status: "retry" | "failed" | "unknown"; error: string; unreachable?: boolean };

/** Sends messages; one implementation per transport (SMTP pool, outbox folder). */
export interface Mailer {
  /** Where mail goes, for the operator: "smtp://mail.example.org:587" or "outbox var/outbox/3". */
  readonly description: string;
  send(message: OutgoingMessage): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** The configured transport: SMTP when PAPERMAIL_SMTP_URL is set, else .eml files in the outbox folder. */
export function createMailer(config: Config, outboxSubdir: string): Mailer {
  return config.smtpUrl
    ? createSmtpMailer({ url: config.smtpUrl, poolSize: config.smtpPool, dkim: config.dkim })
    : createOutboxMailer(`${config.outboxDir}/${outboxSubdir}`);
}
