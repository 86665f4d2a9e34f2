/**
 * What a bounce, a complaint or a refusal says about a reader, as a mail operator
 * judges it (the reason names follow Sisimai's, the reference list of bounce reasons).
 *
 * - hard: the recipient does not exist or can never receive: suppress at once;
 * - soft: the recipient may receive later: counts towards a series;
 * - sender: our side was refused (the sender, its domain's authentication, its
 *   reputation, the message): never a reader's fault, never suppresses anyone;
 * - complaint: the reader reported the mail (abuse, opt-out): suppress at once;
 * - not-a-bounce: a delivery notice, a delay warning, an auto-reply.
 */
export type BounceKind = "hard" | "soft" | "sender" | "complaint" | "not-a-bounce";

export const BOUNCE_KINDS: readonly BounceKind[] = ["hard", "soft", "sender", "complaint", "not-a-bounce"];

/** Each reason and its kind. */
export const REASONS = {
  // The recipient's own permanent failure.
  userunknown: "hard",
  hostunknown: "hard",
  hasmoved: "hard",
  notaccept: "hard",
  suspend: "hard",
  // The recipient may receive later.
  mailboxfull: "soft",
  exceedlimit: "soft",
  mesgtoobig: "soft",
  systemerror: "soft",
  systemfull: "soft",
  networkerror: "soft",
  expired: "soft",
  mailererror: "soft",
  onhold: "soft",
  undefined: "soft",
  // Our side was refused. A provider's own list ("suppressed", "dropped") is its refusal
  // to send for us, not an answer from the reader's mailbox.
  suppressed: "sender",
  blocked: "sender",
  policyviolation: "sender",
  spamdetected: "sender",
  virusdetected: "sender",
  contenterror: "sender",
  authfailure: "sender",
  requireptr: "sender",
  badreputation: "sender",
  rejected: "sender",
  norelaying: "sender",
  notcompliantrfc: "sender",
  securityerror: "sender",
  speeding: "sender",
  toomanyconn: "sender",
  syntaxerror: "sender",
  filtered: "sender",
  // The reader reported the mail.
  feedback: "complaint",
  // News, not failures.
  delivered: "not-a-bounce",
  delayed: "not-a-bounce",
  vacation: "not-a-bounce",
  "not-spam": "not-a-bounce",
} as const satisfies Record<string, BounceKind>;

export type BounceReason = keyof typeof REASONS;

/** The kind a reason belongs to. */
export function kindOf(reason: BounceReason): BounceKind {
  return REASONS[reason];
}

/** The judgement of one failure or report about one recipient. */
export interface Judgement {
  reason: BounceReason;
  kind: BounceKind;
}

/** When soft bounces make an address `bounced`: `softLimit` of them within `softDays`. */
export interface BouncePolicy {
  softLimit: number;
  softDays: number;
}

/**
 * What one event does to its reader: a hard bounce and a complaint suppress at
 * once, a soft bounce when it completes a series (`softInWindow` counts it), a
 * refusal of our side never.
 */
export function suppressionFor(kind: Exclude<BounceKind, "not-a-bounce">, softInWindow: number, policy: BouncePolicy): "bounced" | "complained" | undefined {
  if (kind === "complaint") return "complained";
  if (kind === "hard") return "bounced";
  if (kind === "soft" && softInWindow >= policy.softLimit) return "bounced";
  return undefined;
}
