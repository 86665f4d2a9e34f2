import { ImapFlow } from "imapflow";
import type { Config } from "../config/load.js";
import { describeError, PapermailError } from "../errors.js";
import type { Db } from "../store/db.js";
import type { Clock } from "../util/time.js";
import { processBounce, tooLarge, type BounceOutcome } from "./process.js";

/** Keyword on messages papermail applied or found already applied: never read again. */
export const READ_KEYWORD = "$PapermailRead";
/** Keyword on messages papermail could not recognise: reported once, left unread for a person. */
export const UNRECOGNISED_KEYWORD = "$PapermailUnrecognised";

/** Where PAPERMAIL_BOUNCE_MAILBOX points, with the password kept out of any message. */
export function describeMailbox(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === "/" ? "/INBOX" : u.pathname}`;
}

/** How long one run over the mailbox may take at most: a server that drips its answers cannot hold the job longer. */
export const MAILBOX_RUN_MS = 5 * 60_000;

/** What one run over the mailbox did; `stopped` says why it ended before the last message (read next run). */
export interface MailboxRun {
  outcomes: BounceOutcome[];
  stopped?: string;
}

/**
 * Reads the bounce mailbox once: every message not yet read by papermail is
 * processed, then flagged so nothing is counted twice (\Seen and $PapermailRead
 * for what was read, applied or not; $PapermailUnrecognised, still unseen, for a
 * person to look at). A message that cannot be processed never blocks the rest.
 * Sizes are asked first: a message over PAPERMAIL_BOUNCE_MAX_MB is never fetched
 * (flagged for a person, reported). The whole run has a deadline of our own
 * (MAILBOX_RUN_MS): past it the connection is closed and the rest waits for the next run.
 * `imaps://` is TLS from the start; `imap://` must get STARTTLS before the login.
 */
export async function fetchBounces(
  deps: { db: Db; config: Config; clock: Clock },
  onOutcome?: (o: BounceOutcome) => void,
  options: { deadlineMs?: number } = {},
): Promise<MailboxRun> {
  const url = new URL(deps.config.bounceMailbox!);
  const secure = url.protocol === "imaps:";
  const folder = decodeURIComponent(url.pathname.replace(/^\/+/, "")) || "INBOX";
  const where = describeMailbox(url.href);
  const deadlineMs = options.deadlineMs ?? MAILBOX_RUN_MS;
  const client = new ImapFlow({
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port) || (secure ? 993 : 143),
    secure,
    doSTARTTLS: secure ? undefined : true,
    auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    tls: deps.config.bounceCa ? { ca: deps.config.bounceCa } : undefined,
    logger: false,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 5 * 60_000,
  });
  client.on("error", () => undefined);
  // A deadline we own: the socket timeouts only see a connection that goes quiet, not one that drips.
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    client.close();
  }, deadlineMs);
  const stoppedAt = () => `the mailbox run reached its deadline of ${Math.round(deadlineMs / 1000)} s (the server answers too slowly); the rest waits for the next run`;
  try {
    try {
      await client.connect();
    } catch (err) {
      client.close();
      if (expired) return { outcomes: [], stopped: stoppedAt() };
      const e = err as { authenticationFailed?: boolean; code?: string };
      const why = e.authenticationFailed ? "the login was refused (check the user and password in PAPERMAIL_BOUNCE_MAILBOX)" : describeError(err);
      throw new PapermailError("CONFIG", `PAPERMAIL_BOUNCE_MAILBOX: cannot read ${where}: ${why}`, { variable: "PAPERMAIL_BOUNCE_MAILBOX" }, { cause: err });
    }
    const outcomes: BounceOutcome[] = [];
    try {
      await readMailbox(client, deps, { folder, where }, (o) => {
        outcomes.push(o);
        onOutcome?.(o);
      });
    } catch (err) {
      if (!expired) throw err;
    } finally {
      if (!expired) await client.logout().catch(() => client.close());
    }
    return expired ? { outcomes, stopped: stoppedAt() } : { outcomes };
  } finally {
    clearTimeout(timer);
  }
}

async function readMailbox(client: ImapFlow, deps: { db: Db; config: Config; clock: Clock }, box: { folder: string; where: string }, take: (o: BounceOutcome) => void): Promise<void> {
  const lock = await client.getMailboxLock(box.folder);
  try {
    const found = await client.search({ unKeyword: READ_KEYWORD, not: { keyword: UNRECOGNISED_KEYWORD } }, { uid: true });
    const uids = found || [];
    // Sizes first (RFC822.SIZE): a message too large is never downloaded.
    const sizes = new Map<number, number>();
    if (uids.length > 0) for (const m of await client.fetchAll(uids, { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
    const max = deps.config.bounceMaxBytes;
    for (const uid of uids) {
      const origin = `${box.where} UID ${uid}`;
      let outcome: BounceOutcome;
      const size = sizes.get(uid) ?? 0;
      if (size > max) outcome = { origin, status: "unrecognised", reason: tooLarge(size, max), entries: [] };
      else {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (!message || !message.source) continue;
        try {
          outcome = await processBounce(deps, message.source, origin);
        } catch (err) {
          // Whatever went wrong with one message, the mailbox goes on: it is flagged for a person.
          outcome = { origin, status: "unrecognised", reason: `cannot be processed: ${describeError(err)}`, entries: [] };
        }
      }
      take(outcome);
      const flags = outcome.status === "unrecognised" ? [UNRECOGNISED_KEYWORD] : ["\\Seen", READ_KEYWORD];
      await client.messageFlagsAdd(String(uid), flags, { uid: true });
    }
  } finally {
    lock.release();
  }
}
