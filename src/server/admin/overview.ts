import type { ServerResponse } from "node:http";
import { findProblems } from "../../alarms/drift.js";
import { nextRuns } from "../../scheduler/slots.js";
import { bouncesByDomain, digestOutcomes, papersPerListDay, readerChangesByDay, rejectedDumps } from "../../store/console.js";
import { waitingDigests } from "../../store/digests.js";
import { readOperations } from "../../store/operations.js";
import { complaintRate, COMPLAINT_WINDOW_DAYS, type ComplaintRate } from "../../store/complaint-rate.js";
import { countSubscribers } from "../../store/subscribers.js";
import { relayReports } from "../../store/relays.js";
import { displayTime } from "../../util/time.js";
import type { Session } from "./auth.js";
import { stackedBars } from "./charts.js";
import type { ConsoleDeps, ConsoleKit } from "./kit.js";

/** The console's front page: alerts, readers, the last digests, papers per day, the queue and the schedule. */
export function overviewPage(deps: ConsoleDeps, kit: ConsoleKit, res: ServerResponse, s: Session): void {
  const { db, config } = deps;
  const at = deps.clock.now();
  const since = new Date(at.getTime() - 29 * 86400_000).toISOString().slice(0, 10);
  const days = Array.from({ length: 30 }, (_, i) => new Date(Date.parse(since) + i * 86400_000).toISOString().slice(0, 10));
  const changes = new Map(readerChangesByDay(db, since).map((c) => [c.day, c]));
  const pick = (key: "joined" | "left" | "bounced" | "complained") => days.map((d) => changes.get(d)?.[key] ?? 0);
  const readersChart = stackedBars("Readers who joined and left, per day (30 days)", "Confirmed subscriptions, unsubscribes, bounces and complaints per day over the last 30 days.", days.map((d) => d.slice(5)), [
    { name: "joined", values: pick("joined") },
    { name: "unsubscribed", values: pick("left") },
    { name: "bounced", values: pick("bounced") },
    { name: "complained", values: pick("complained") },
  ]);
  const digests = digestOutcomes(db, 20);
  const oldestFirst = [...digests].reverse();
  const digestsChart = stackedBars("Messages of the last 20 digests by outcome", "For each digest, its messages sent, waiting, failed, unknown and skipped.", oldestFirst.map((d) => `#${d.id}`), [
    { name: "sent", values: oldestFirst.map((d) => d.sent) },
    { name: "waiting", values: oldestFirst.map((d) => d.waiting) },
    { name: "failed", values: oldestFirst.map((d) => d.failed) },
    { name: "unknown", values: oldestFirst.map((d) => d.unknown) },
    { name: "skipped", values: oldestFirst.map((d) => d.skipped) },
  ]);
  const perDay = papersPerListDay(db, 30);
  const papersChart = stackedBars("Papers per list day (the newest 30 list days)", "How many papers Hugging Face listed on each of the newest 30 list days, as ingested.", perDay.map((p) => p.day.slice(5)), [
    { name: "papers", values: perDay.map((p) => p.papers) },
  ]);
  const ops = readOperations(db);
  const totals = countSubscribers(db);
  kit.page(res, 200, "admin-overview", "Overview", {
    signedIn: true,
    csrf: s.csrf,
    alerts: findProblems(db, config, at),
    readerTotals: Object.entries(totals).map(([status, count]) => ({ status, count })),
    readersChart,
    digestsChart,
    papersChart,
    digests: digests.map((d) => ({ ...d, url: `${config.publicUrl}/digests/${d.id}` })),
    queue: waitingDigests(db, at).map((q) => ({ ...q, nextAttemptAt: displayTime(q.nextAttemptAt) })),
    schedule: nextRuns(config, at),
    domains: bouncesByDomain(db, new Date(at.getTime() - 30 * 86400_000).toISOString(), 20),
    lastIngest: ops.lastIngestAt ? displayTime(ops.lastIngestAt) : "never",
    lastFetch: fetchWords(ops),
    dumps: ops.dumps,
    complaints: complaintWords(complaintRate(db, at)),
    relays: relayReports(db, config.relays, at).map((r) => ({
      ...r,
      until: r.until ? displayTime(r.until) : "",
      quota: r.dailyLimit !== null ? `${r.sentLast24h} of ${r.dailyLimit}` : "no limit",
      rate: r.rate !== null ? `${r.rate}/s` : "unlimited",
      lastError: r.lastError ? `${displayTime(r.lastErrorAt!)}: ${r.lastError}` : "",
    })),
    rejected: rejectedDumps(db, 10).map((r) => ({ ...r, at: displayTime(r.at) })),
  });
}

/** "0.05% (1 complaint over 2,000 messages delivered in 7 days; Gmail's line is 0.3%)". */
function complaintWords(c: ComplaintRate): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `${(c.rate * 100).toFixed(2)}% (${n(c.complaints)} complaint${c.complaints === 1 ? "" : "s"} over ${n(c.delivered)} message${c.delivered === 1 ? "" : "s"} delivered in ${COMPLAINT_WINDOW_DAYS} days; warning at 0.1%, Gmail's line is 0.3%)`;
}

/** "Dec 4, 2026, 08:00 UTC", or the failures since the last success, or "never tried". */
function fetchWords(ops: { lastFetchAt: string | null; lastFetchTryAt: string | null; fetchFailures: number }): string {
  if (ops.fetchFailures > 0) {
    const tried = ops.lastFetchTryAt ? `, the last at ${displayTime(ops.lastFetchTryAt)}` : "";
    return `${ops.fetchFailures} run${ops.fetchFailures === 1 ? "" : "s"} failed in a row${tried}; last success ${ops.lastFetchAt ? displayTime(ops.lastFetchAt) : "never"}`;
  }
  return ops.lastFetchAt ? displayTime(ops.lastFetchAt) : "never tried";
}
