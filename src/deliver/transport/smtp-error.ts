import type { NodemailerError } from "nodemailer/lib/errors";
import { PapermailError } from "../../errors.js";

/**
 * Where a session was when it failed:
 * - connect: connecting, greeting, EHLO, STARTTLS or login;
 * - mail, rcpt, data: the server's answer to MAIL FROM, RCPT TO or DATA;
 * - message: the message data was being written (the server cannot have taken it);
 * - end-of-data: the whole message went out and its reply was awaited.
 */
export type SmtpStage = "connect" | "mail" | "rcpt" | "data" | "message" | "end-of-data";

/**
 * What kind of failure a step met:
 * - reply: the server answered with an error code (`responseCode`);
 * - connection: the connection failed, closed or broke the protocol;
 * - timeout: no answer within the step's deadline;
 * - tls, auth, insecure: our settings do not fit the server (a configuration error);
 * - smtputf8: an address needs SMTPUTF8 and the server does not offer it.
 */
export type SmtpFailure = "reply" | "connection" | "timeout" | "tls" | "auth" | "insecure" | "smtputf8";

/** A failed SMTP step: the server's reply when there was one, and how far the message had got. */
export class SmtpError extends PapermailError {
  constructor(
    message: string,
    readonly stage: SmtpStage,
    readonly failure: SmtpFailure,
    readonly responseCode?: number,
  ) {
    super("SMTP", message, { stage, failure, responseCode });
  }

  /** True once the whole message had been handed to the network: a lost answer may hide a delivery. */
  get dataSent(): boolean {
    return this.stage === "end-of-data";
  }
}

/** Certificate errors: the server is who it says only if we trust its CA. */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME|VERIFY/;
const NOT_TLS = /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST/;

/** What a session's error message names: the server, how it was reached, whether a login was asked for. */
export interface SessionFacts {
  where: string;
  secure: boolean;
  login: boolean;
  oauth2: boolean;
}

/** The refusal to send a password over a connection that is not encrypted. */
export function insecureLogin(where: string): SmtpError {
  return new SmtpError(
    `refusing to send the SMTP password to ${where} over an unencrypted connection (the server offers no STARTTLS, or something removed it): ` +
      "use smtps://, enable STARTTLS on the server, or set PAPERMAIL_SMTP_ALLOW_PLAINTEXT_AUTH=true for a trusted local relay",
    "connect",
    "insecure",
  );
}

/** A nodemailer error in papermail's terms: which step, whose fault, and what to change. */
export function describeSmtpError(err: NodemailerError, stage: SmtpStage, session: SessionFacts): SmtpError {
  const code = err.code ?? "";
  const original = String(err.originalCode ?? "");
  const reply = typeof err.response === "string" ? err.response : undefined;
  const responseCode = typeof err.responseCode === "number" ? err.responseCode : undefined;
  if (stage === "connect") {
    if (code === "EAUTH") {
      return new SmtpError(
        `${session.where} refused the SMTP login (check the user and password in PAPERMAIL_SMTP_URL${session.oauth2 ? " and the OAuth2 settings" : ""}): ${reply ?? err.message}`,
        stage,
        "auth",
        responseCode,
      );
    }
    // STARTTLS asked for because a password is to be sent, and refused: the server offers no encryption.
    if (code === "ETLS" && err.command === "STARTTLS" && reply && session.login) return insecureLogin(session.where);
    if (CERT_ERRORS.test(original) || CERT_ERRORS.test(code)) {
      return new SmtpError(
        `${session.secure ? "TLS" : "STARTTLS"} with ${session.where} failed: the server's certificate is not trusted (${original || code}): if the relay uses a private CA, set PAPERMAIL_SMTP_CA_FILE to that CA's PEM file`,
        stage,
        "tls",
      );
    }
    if (NOT_TLS.test(original) || /wrong version number|packet length/i.test(err.message)) {
      return new SmtpError(
        session.secure
          ? `TLS with ${session.where} failed: the server does not speak TLS from the first byte: use smtp:// (STARTTLS, usually port 587 or 25) instead of smtps:// (port 465)`
          : `STARTTLS with ${session.where} failed: the server's STARTTLS failed the handshake`,
        stage,
        "tls",
      );
    }
    if (code === "ETLS") return new SmtpError(`STARTTLS with ${session.where} failed: ${err.message}`, stage, "tls", responseCode);
    // A greeting such as "421 too busy" or "554 go away": the server answered.
    if (responseCode !== undefined) return new SmtpError(`${session.where}: ${reply ?? err.message}`, stage, "reply", responseCode);
    if (code === "ETIMEDOUT") return new SmtpError(`${session.where}: ${err.message.toLowerCase()}`, stage, "timeout");
    return new SmtpError(`cannot connect to ${session.where}: ${err.message}`, stage, "connection");
  }
  if (responseCode !== undefined && (code === "EENVELOPE" || code === "EMESSAGE" || code === "ECONNECTION")) {
    // MAIL FROM, RCPT TO or DATA refused, or the reply to the end of the data.
    const at: SmtpStage = code === "EMESSAGE" ? "end-of-data" : err.command === "MAIL FROM" ? "mail" : err.command === "RCPT TO" ? "rcpt" : err.command === "DATA" ? "data" : stage;
    return new SmtpError(reply ?? err.message, at, "reply", responseCode);
  }
  if (code === "EMESSAGE" && /larger than allowed/.test(err.message)) {
    return new SmtpError(`552 5.3.4 ${err.message} (the server's SIZE limit)`, "mail", "reply", 552);
  }
  if (code === "EENVELOPE") return new SmtpError(`${session.where}: ${err.message}`, stage, "reply", 553);
  return new SmtpError(`${session.where}: ${err.message}`, stage, code === "ETIMEDOUT" ? "timeout" : "connection");
}
