import { ImapFlow } from "imapflow";
import type { Config } from "../config.js";
import { describeError, PapermailError } from "../errors.js";
import type { Db } from "../store/db.js";
import type { Clock } from "../util/time.js";
import { processBounce, type BounceOutcome } from "./process.js";

/** Keyword on messages papermail applied or found already applied: never read again. */
export const READ_KEYWORD = "$PapermailRead";
/** Keyword on messages papermail could not recognise: reported once, left unread for a person. */
export const UNRECOGNISED_KEYWORD = "$PapermailUnrecognised";

/** Where PAPERMAIL_BOUNCE_MAILBOX points, with the password kept out of any message. */
export function describeMailbox(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === "/" ? "/INBOX" : u.pathname}`;
}

/**
 * Reads the bounce mailbox once: every message not yet read by papermail is
 * processed, then flagged so nothing is counted twice (\Seen and $PapermailRead
 * for what was read, applied or not; $PapermailUnrecognised, still unseen, for a
 * person to look at). A message that cannot be processed never blocks the rest.
 * `imaps://` is TLS from the start; `imap://` must get STARTTLS before the login.
 */
export async function fetchBounces(deps: { db: Db; config: Config; clock: Clock }, onOutcome?: (o: BounceOutcome) => void): Promise<BounceOutcome[]> {
  const url = new URL(deps.config.bounceMailbox!);
  const secure = url.protocol === "imaps:";
  const folder = decodeURIComponent(url.pathname.replace(/^\/+/, "")) || "INBOX";
  const where = describeMailbox(url.href);
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
  try {
    await client.connect();
  } catch (err) {
    client.close();
    const e = err as { authenticationFailed?: boolean; code?: string };
    const why = e.authenticationFailed ? "the login was refused (check the user and password in PAPERMAIL_BOUNCE_MAILBOX)" : describeError(err);
    throw new PapermailError("CONFIG", `PAPERMAIL_BOUNCE_MAILBOX: cannot read ${where}: ${why}`, { variable: "PAPERMAIL_BOUNCE_MAILBOX" }, { cause: err });
  }
  const outcomes: BounceOutcome[] = [];
  try {
    const lock = await client.getMailboxLock(folder);
    try {
      const uids = (await client.search({ unKeyword: READ_KEYWORD, not: { keyword: UNRECOGNISED_KEYWORD } }, { uid: true })) || [];
      for (const uid of uids) {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (!message || !message.source) continue;
        const origin = `${where} UID ${uid}`;
        let outcome: BounceOutcome;
        try {
          outcome = processBounce(deps, message.source, origin);
        } catch (err) {
          // Whatever went wrong with one message, the mailbox goes on: it is flagged for a person.
          outcome = { origin, status: "unrecognised", reason: `cannot be processed: ${describeError(err)}`, entries: [] };
        }
        outcomes.push(outcome);
        onOutcome?.(outcome);
        const flags = outcome.status === "unrecognised" ? [UNRECOGNISED_KEYWORD] : ["\\Seen", READ_KEYWORD];
        await client.messageFlagsAdd(String(uid), flags, { uid: true });
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return outcomes;
}
