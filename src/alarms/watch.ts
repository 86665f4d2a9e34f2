import type { CommandContext } from "../context.js";
import { createMailer } from "../deliver/transport/create-mailer.js";
import { describeError } from "../errors.js";
import { escapeHtml } from "../render/escape.js";
import { fromAddress } from "../render/from.js";
import { buildSimpleMessage } from "../render/simple-message.js";
import { activeAlerts, claimAlertMail, clearAlertsExcept, raiseAlert, releaseAlertMail, type StoredAlert } from "../store/alerts.js";
import { findProblems, type Problem } from "./drift.js";

/** What one look at the installation changed. */
export interface WatchResult {
  raised: Problem[];
  cleared: StoredAlert[];
  active: StoredAlert[];
  mailed: string[];
}

/**
 * Looks for problems (see findProblems), raises the new ones, clears the ones that
 * went, and mails each active alert to PAPERMAIL_ADMIN_EMAIL at most once a day (UTC),
 * whichever process looks. Run by the scheduler after each job and by ingest, fetch
 * and send-digest as they finish.
 */
export async function watchInstallation(ctx: Pick<CommandContext, "db" | "config" | "clock">, log: (line: string) => void): Promise<WatchResult> {
  const { db, config } = ctx;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const problems = findProblems(db, config, now);
  const raised = db.transaction(() => problems.filter((p) => raiseAlert(db, p.kind, p.message, at)))();
  const cleared = clearAlertsExcept(db, problems.map((p) => p.kind), at);
  for (const p of raised) log(`alert: ${p.message}`);
  for (const a of cleared) log(`alert cleared: ${a.kind} (raised ${a.raisedAt})`);
  const active = activeAlerts(db);
  const mailed: string[] = [];
  if (config.adminEmail) {
    const due = active.filter((a) => claimAlertMail(db, a.kind, at.slice(0, 10)));
    if (due.length > 0) {
      const mailer = createMailer(config, "alerts", { db });
      try {
        for (const a of due) {
          const subject = `papermail alert: ${a.kind} (${new URL(config.publicUrl).host})`;
          const text = `${a.message}\n\nRaised ${a.raisedAt}; it clears itself when the cause goes. \`papermail status\` lists every active alert.\n`;
          const raw = await buildSimpleMessage({ from: config.from, to: config.adminEmail, subject, text, html: `<p>${escapeHtml(a.message)}</p><p>Raised ${escapeHtml(a.raisedAt)}; it clears itself when the cause goes.</p>`, date: now });
          const outcome = await mailer.send({ from: fromAddress(config.from), to: config.adminEmail, raw, name: `alert-${a.kind}-${at.slice(0, 10)}` });
          if (outcome.status === "sent") mailed.push(a.kind);
          else {
            releaseAlertMail(db, a.kind);
            log(`alert mail to ${config.adminEmail} not sent (next look tries again): ${outcome.error}`);
          }
        }
      } catch (err) {
        for (const a of due.filter((d) => !mailed.includes(d.kind))) releaseAlertMail(db, a.kind);
        log(`alert mail: ${describeError(err)}`);
      } finally {
        await mailer.close();
      }
    }
  }
  return { raised, cleared, active, mailed };
}
