/** Bounce and complaint messages in the shapes real servers send, for the tests. */

let n = 0;
const id = () => `<${Date.now()}.${++n}@mx.example.net>`;

/** An RFC 3464 delivery status notification. */
export function dsn(o: { to: string; recipient: string; status: string; action?: string; messageId?: string; original?: string }): string {
  return [
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
    `To: ${o.to}`,
    "Subject: Undelivered Mail Returned to Sender",
    `Message-ID: ${o.messageId ?? id()}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    "",
    "--B",
    "Content-Type: text/plain",
    "",
    `<${o.recipient}>: host mx.example.com said: ${o.status.startsWith("5") ? "550" : "452"} ${o.status} no`,
    "",
    "--B",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "",
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Action: ${o.action ?? "failed"}`,
    `Status: ${o.status}`,
    `Diagnostic-Code: smtp; ${o.status.startsWith("5") ? "550" : "452"} ${o.status} mailbox says no`,
    "",
    "--B",
    "Content-Type: text/rfc822-headers",
    "",
    o.original ?? "Subject: 4 trending papers",
    "",
    "--B--",
    "",
  ].join("\r\n");
}

/** An RFC 5965 (ARF) feedback report: someone pressed "this is spam". */
export function arf(o: { recipient: string; original: string; messageId?: string }): string {
  return [
    "From: Feedback Loop <fbl@isp.example>",
    "To: abuse@example.org",
    "Subject: Complaint about message",
    `Message-ID: ${o.messageId ?? id()}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=feedback-report; boundary="F"',
    "",
    "--F",
    "Content-Type: text/plain",
    "",
    "This is an email abuse report.",
    "",
    "--F",
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: abuse",
    "User-Agent: SomeFBL/1.0",
    "Version: 1",
    `Original-Rcpt-To: ${o.recipient}`,
    "",
    "--F",
    "Content-Type: message/rfc822",
    "",
    o.original,
    "",
    "--F--",
    "",
  ].join("\r\n");
}

/** Exim's plain-text bounce. */
export function eximBounce(o: { to: string; recipient: string }): string {
  return [
    "From: Mail Delivery System <Mailer-Daemon@exim.example>",
    `To: ${o.to}`,
    "Subject: Mail delivery failed: returning message to sender",
    `Message-ID: ${id()}`,
    "",
    "This message was created automatically by mail delivery software.",
    "",
    "A message that you sent could not be delivered to one or more of its",
    "recipients. This is a permanent error. The following address(es) failed:",
    "",
    `  ${o.recipient}`,
    "    host mx.example.com [192.0.2.1]",
    "    SMTP error from remote mail server after RCPT TO:<x>:",
    "    550 5.1.1 User unknown",
    "",
  ].join("\r\n");
}

/** An Amazon SES bounce notification delivered by email. */
export function sesBounce(o: { recipient: string; type: "Permanent" | "Transient"; messageId?: string; diagnosticCode?: unknown }): string {
  const body = JSON.stringify({
    notificationType: "Bounce",
    bounce: {
      bounceType: o.type,
      bounceSubType: "General",
      bouncedRecipients: [{ emailAddress: o.recipient, status: o.type === "Permanent" ? "5.1.1" : "4.4.7", diagnosticCode: o.diagnosticCode ?? "smtp; 550 5.1.1 user unknown" }],
    },
    mail: { source: "digest@example.org", commonHeaders: { messageId: o.messageId ?? "<unknown@example.org>" } },
  });
  return ["From: no-reply@sns.amazonaws.com", "To: ops@example.org", "Subject: AWS Notification Message", `Message-ID: ${id()}`, "", body, ""].join("\r\n");
}

/** A message that is no bounce at all. */
export function newsletter(): string {
  return ["From: news@shop.example", "To: bounces@example.org", "Subject: Our autumn sale", `Message-ID: ${id()}`, "", "Everything must go.", ""].join("\r\n");
}
