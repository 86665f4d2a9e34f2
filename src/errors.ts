/** Every failure papermail reports on purpose carries one of these codes. */
export type ErrorCode =
  | "CONFIG" // a PAPERMAIL_* variable or .env value is wrong
  | "USAGE" // flags that do not go together
  | "DUMP_REJECTED" // a file is not a readable dump
  | "BAD_ADDRESS" // an email address was refused
  | "NOT_FOUND" // a file, digest or subscriber does not exist
  | "SMTP" // a mail server refused a step or the connection broke
  | "FETCH" // the daily_papers API could not be read
  | "TEMPLATE"; // a template failed strict validation

/** The one error base class: a code, a message, and where it happened. */
export class PapermailError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PapermailError";
    this.code = code;
    this.context = context;
  }
}

/** True when `err` is a PapermailError with one of the given codes. */
export function isPapermailError(err: unknown, ...codes: ErrorCode[]): err is PapermailError {
  return err instanceof PapermailError && (codes.length === 0 || codes.includes(err.code));
}

/** Message of any thrown value, for logs and result rows. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
