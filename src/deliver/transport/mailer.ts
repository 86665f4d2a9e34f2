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
  /**
   * The message has CRLF line ends only and no line that starts with a dot (what
   * papermail's digest template guarantees): it goes out without a scan for either.
   */
  smtpReady?: boolean;
  /** Called just before the message data is written: from then on it may arrive. */
  onData?: () => void;
}

/**
 * What became of one message. The ledger decides what to do with it:
 * - sent: the server said 250 (or the outbox file is written);
 * - failed: permanent (5xx), with the server's reply and the step it refused
 *   (`relay`: this relay cannot carry it, such as an address that needs SMTPUTF8);
 * - unknown: the whole message went out but no reply came (the connection went,
 *   or the end-of-data reply never came in time): it may have arrived;
 * - retry: it surely did not arrive; `cause` says why, and whose fault it is:
 *   - temporary: the server answered 4xx for this message;
 *   - throttled: the server asks us to slow down (421, 451, 454);
 *   - connection: the connection failed before the message data was written;
 *   - unreachable: no connection could be made at all;
 *   - config: our settings are wrong (authentication refused, TLS failed, AUTH
 *     without encryption): nothing will work until the operator changes them;
 *   - quota: every relay is at its own daily limit, until `until`.
 */
export type SendOutcome =
  | { status: "sent"; response: string }
  | { status: "failed"; error: string; code?: number; stage?: RefusedStep; relay?: boolean }
  | { status: "unknown"; error: string; stalled?: boolean }
  | { status: "retry"; error: string; code?: number; cause: RetryCause; until?: string };

/** The SMTP step a permanent refusal answered. */
export type RefusedStep = "mail" | "rcpt" | "data" | "end-of-data";

export type RetryCause = "temporary" | "throttled" | "connection" | "unreachable" | "config" | "quota";

/** Sends messages; one implementation per transport (SMTP pool, outbox folder). */
export interface Mailer {
  /** Where mail goes, for the operator: "smtp://mail.example.org:587" or "outbox var/outbox/3". */
  readonly description: string;
  send(message: OutgoingMessage): Promise<SendOutcome>;
  close(): Promise<void>;
}
