/**
 * A reader's consent: whether an address may get mail, and who may change that.
 *
 * One table decides it for every path (the form, confirmation links, unsubscribe
 * links, the undo, the CLI, the console, imports, bounces and complaints), so that no
 * path can undo what a stronger one decided. Three things are stronger than any
 * link: a complaint, a hard bounce and the operator's suppression. A link proves
 * only that someone holds a copy of a message, and copies get forwarded.
 */

export type ConsentStatus = "pending" | "active" | "unsubscribed" | "bounced" | "complained";

/** Every status, in the order lists show them. */
export const CONSENT_STATUSES: readonly ConsentStatus[] = ["pending", "active", "unsubscribed", "bounced", "complained"];

/** Statuses that get no mail: the suppression list. */
export const SUPPRESSED_STATUSES: readonly ConsentStatus[] = ["unsubscribed", "bounced", "complained"];

/** Who can cause an event: knowing an address is all "anyone" needs. */
export type Actor = "anyone" | "reader" | "operator" | "mail system";

export type ConsentEventType = "request" | "confirm" | "unsubscribe" | "undo" | "remove" | "add" | "reactivate" | "suppress" | "lift" | "bounce" | "complaint";

/** Who causes each event, and through what. */
export const CONSENT_EVENTS: Record<ConsentEventType, { actor: Actor; via: string }> = {
  request: { actor: "anyone", via: "the subscribe form; `subscribers add` or `import` without `--confirmed`" },
  confirm: { actor: "reader", via: "the link of a confirmation email sent after the last change (proves the mailbox works: a fresh consent)" },
  unsubscribe: { actor: "reader", via: "a signed unsubscribe link, one-click or on the page; the preferences page; a complaint whose only proof is such a link" },
  undo: { actor: "reader", via: "the undo button of their own latest unsubscribe, once, within `PAPERMAIL_UNDO_DAYS`" },
  remove: { actor: "operator", via: "`subscribers remove`, the console's Unsubscribe" },
  add: { actor: "operator", via: "`subscribers add` or `import` with `--confirmed`" },
  reactivate: { actor: "operator", via: "`subscribers add` or `import` with `--confirmed --reactivate`" },
  suppress: { actor: "operator", via: "`suppressions add`, the console" },
  lift: { actor: "operator", via: "`suppressions remove`, the console's Lift" },
  bounce: { actor: "mail system", via: "a hard bounce, or a series of soft ones (one per message sent), proven to answer our mail" },
  complaint: { actor: "mail system", via: "a complaint proven by our VERP address or keyed Message-ID" },
};

/** A column of the table: an address not on the list yet, a status, or held by the operator (whatever its status). */
export type ConsentColumn = "new" | ConsentStatus | "suppressed";

export const CONSENT_COLUMNS: readonly ConsentColumn[] = ["new", "pending", "active", "unsubscribed", "bounced", "complained", "suppressed"];

/**
 * One cell: the status it leads to, "same" (recorded, nothing changes) or "refused"
 * (recorded, nothing changes, the caller says why); `mail` when a confirmation email
 * may go (within CONFIRMATION_LIMITS); `hold` when the operator's mark is set.
 */
export interface ConsentCell {
  to: ConsentStatus | "same" | "refused";
  mail?: true;
  hold?: true;
}

const same: ConsentCell = { to: "same" };
const refused: ConsentCell = { to: "refused" };
const to = (status: ConsentStatus, extra: Omit<ConsentCell, "to"> = {}): ConsentCell => ({ to: status, ...extra });
const row = (cells: ConsentCell[]): Record<ConsentColumn, ConsentCell> =>
  Object.fromEntries(CONSENT_COLUMNS.map((c, i) => [c, cells[i]!])) as Record<ConsentColumn, ConsentCell>;

/** The table: event x column -> cell. Extra conditions of a cell are in `decideConsent`. */
export const CONSENT_TABLE: Record<ConsentEventType, Record<ConsentColumn, ConsentCell>> = {
  //                  new                          pending                        active                      unsubscribed                       bounced                            complained                         suppressed
  request: row([to("pending", { mail: true }), to("pending", { mail: true }), same, { to: "same", mail: true }, { to: "same", mail: true }, { to: "same", mail: true }, refused]),
  confirm: row([refused, to("active"), same, to("active"), to("active"), to("active"), refused]),
  unsubscribe: row([refused, to("unsubscribed"), to("unsubscribed"), same, same, same, same]),
  undo: row([refused, refused, same, to("active"), refused, refused, refused]),
  remove: row([refused, to("unsubscribed"), to("unsubscribed"), to("unsubscribed"), same, same, same]),
  add: row([to("active"), to("active"), same, refused, refused, refused, refused]),
  reactivate: row([to("active"), to("active"), same, to("active"), to("active"), to("active"), refused]),
  suppress: row([to("unsubscribed", { hold: true }), to("unsubscribed", { hold: true }), to("unsubscribed", { hold: true }), { to: "same", hold: true }, { to: "same", hold: true }, { to: "same", hold: true }, { to: "same", hold: true }]),
  lift: row([refused, refused, refused, to("pending"), to("pending"), to("pending"), to("pending")]),
  bounce: row([refused, to("bounced"), to("bounced"), to("bounced"), same, same, same]),
  complaint: row([refused, to("complained"), to("complained"), to("complained"), to("complained"), same, same]),
};

/** What the table needs to know of an address. */
export interface ConsentState {
  /** Undefined: not on the list. */
  status: ConsentStatus | undefined;
  /** The operator suppressed it: only `lift` undoes that. */
  held: boolean;
  /** Who made the latest unsubscribe: only a reader's own can be undone. */
  unsubscribedBy: "reader" | "operator" | null;
  unsubscribedAt: string | null;
  confirmedAt: string | null;
}

/** An event as a path hands it in; `at` is when it happened (a journalled unsubscribe may be older than now). */
export type ConsentEvent =
  | { type: Exclude<ConsentEventType, "undo"> }
  /** The undo names the unsubscribe it answers (from its signed link) and how long undos last. */
  | { type: "undo"; unsubscribedAt: string; windowMs: number };

/** The table's answer: the cell, the new status (undefined: none), and why nothing changed, when it did not. */
export interface ConsentDecision {
  column: ConsentColumn;
  cell: ConsentCell;
  status: ConsentStatus | undefined;
  held: boolean;
  changed: boolean;
  why?: string;
}

/** The column an address is in. */
export function columnOf(state: Pick<ConsentState, "status" | "held">): ConsentColumn {
  if (state.held) return "suppressed";
  return state.status ?? "new";
}

/**
 * Decides one event for one address at `at`: the table's cell, then the conditions
 * no table cell can say (an undo answers only the reader's own latest unsubscribe,
 * within its window; an unsubscribe older than a later confirmation changes nothing).
 */
export function decideConsent(state: ConsentState, event: ConsentEvent, at: string): ConsentDecision {
  const column = columnOf(state);
  let cell = CONSENT_TABLE[event.type][column];
  let why: string | undefined;
  if (event.type === "undo" && cell.to === "active") {
    const tooLate = Date.parse(at) - Date.parse(event.unsubscribedAt) > event.windowMs;
    if (state.unsubscribedBy !== "reader") why = "this unsubscribe was the operator's, not the reader's own";
    else if (state.unsubscribedAt !== event.unsubscribedAt) why = "the link answers an earlier unsubscribe";
    else if (tooLate) why = "the time to undo has passed";
    if (why) cell = refused;
  }
  if (event.type === "unsubscribe" && cell.to === "unsubscribed" && state.confirmedAt && state.confirmedAt > at) {
    // Journalled while the database was busy, before a confirmation that came after it.
    cell = same;
    why = "a subscription confirmed after this unsubscribe stands";
  }
  if (cell.to === "refused" && !why) why = refusal(event.type, column);
  if (cell.to === "same" && !why && column !== "new") why = `already ${column}`;
  const status = cell.to === "same" || cell.to === "refused" ? state.status : cell.to;
  const held = event.type === "lift" && cell.to !== "refused" ? false : state.held || Boolean(cell.hold);
  const changed = status !== state.status || held !== state.held || cell.to === "unsubscribed" || Boolean(cell.hold);
  return { column, cell, status, held, changed, why };
}

function refusal(type: ConsentEventType, column: ConsentColumn): string {
  if (column === "new") return "not on the list";
  if (column === "suppressed") return "the operator suppressed this address: only `suppressions remove` lifts it";
  if (type === "lift") return "not on the suppression list";
  if (type === "add") return `${column}: on the suppression list (--reactivate if they asked you to come back)`;
  if (type === "undo") return column === "pending" ? "not subscribed yet" : `mail to this address ${column === "bounced" ? "bounced" : "was reported as spam"}`;
  return `not possible while ${column}`;
}

/**
 * Confirmation emails per address, whatever happens in between (unsubscribes, lifts,
 * new requests), and per web client: nobody can use papermail to flood a mailbox.
 */
export const CONFIRMATION_LIMITS = {
  perAddress: [
    { count: 1, windowMs: 24 * 3600_000, words: "one a day" },
    { count: 3, windowMs: 30 * 86400_000, words: "three in 30 days" },
  ],
  perClient: { count: 10, windowMs: 24 * 3600_000, words: "ten a day from one client address" },
} as const;

/** The table as Markdown, for the README (a test keeps the two the same). */
export function consentTableMarkdown(): string {
  const cell = (c: ConsentCell) => {
    const base = c.to === "same" ? "=" : c.to === "refused" ? "refused" : c.to;
    return [base, c.hold ? "+ hold" : "", c.mail ? "+ confirmation" : ""].filter(Boolean).join(" ");
  };
  const lines = [
    `| event | who, through what | ${CONSENT_COLUMNS.join(" | ")} |`,
    `|---|---|${CONSENT_COLUMNS.map(() => "---").join("|")}|`,
    ...(Object.keys(CONSENT_TABLE) as ConsentEventType[]).map(
      (e) => `| \`${e}\` | ${CONSENT_EVENTS[e].actor}: ${CONSENT_EVENTS[e].via} | ${CONSENT_COLUMNS.map((c) => cell(CONSENT_TABLE[e][c])).join(" | ")} |`,
    ),
  ];
  return lines.join("\n");
}
