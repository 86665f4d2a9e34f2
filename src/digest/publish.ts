import { PapermailError } from "../errors.js";
import type { CommandContext } from "../context.js";
import { createMailer } from "../deliver/transport/create-mailer.js";
import { deliverDigest, type DeliverOptions, type DeliveryReport } from "../deliver/engine.js";
import { DEFAULT_RETRY } from "../deliver/settle.js";
import { digestSubject } from "../render/digest-view.js";
import { journalFolder } from "../store/send-journal.js";
import { recoverInterruptedDeliveries, requeueUnknown } from "../store/delivery-recovery.js";
import { pruneSendBuckets } from "../store/send-quota.js";
import { activeDigestIds, findDigest, waitingDigests, type WaitingDigest } from "../store/digests.js";
import { editionSettings, freezeEdition, type Edition } from "./editions.js";
import { ownerId } from "../store/senders.js";
import { resolveSecret } from "../store/settings.js";

export interface PublishOptions {
  /** Which edition to freeze: the daily digest (default) or the weekly one. */
  edition?: Edition;
  maxPapers?: number;
  /** Put rows left `unknown` back in the queue first (duplicates possible: an operator's call). */
  retryUnknown: boolean;
  /** Freeze a new digest when nothing else is being sent (default); false only finishes what waits. */
  freeze?: boolean;
  /** Stops claiming new recipients (Ctrl-C, SIGTERM, shutdown); messages in flight finish. */
  signal?: AbortSignal;
  /** Called as each digest starts sending, for a progress display. */
  onDigest?: (digestId: number, recipients: number) => DeliverOptions["onProgress"];
  /** Overrides for tests: retry schedule, throttle pauses. */
  deliver?: Pick<DeliverOptions, "retry" | "throttle" | "waitForRetriesMs">;
}

/** What one publishing run did. */
export interface PublishResult {
  recovered: number;
  requeued: number;
  digests: Array<DeliveryReport & { edition: Edition; subject: string; papers: number; mail: string }>;
  /** Digests not finished after this run, and when their next try is due. */
  waiting: WaitingDigest[];
  /** Why no new digest was frozen, when papers may be waiting for one. */
  heldBack?: string;
  /** Why there was nothing to publish: no new list day, or no paper left of the new days. */
  nothingNew?: string;
}

/**
 * Publishing, shared by `send-digest` and the scheduler: recover rows of crashed
 * senders, help finish the digests someone is sending, then freeze the next edition
 * and send it, unless an edition of the same kind was being sent (an overlapping run
 * freezes nothing new). A daily digest is the news of the list days completed since
 * the previous one; without a new day nothing is published (`nothingNew` says why).
 */
export async function publishDigests(ctx: CommandContext, options: PublishOptions): Promise<PublishResult> {
  const { db, config, clock } = ctx;
  if (!config.demo && !config.publicUrlSet) {
    throw new PapermailError(
      "CONFIG",
      `PAPERMAIL_PUBLIC_URL: not set; every link in a digest (unsubscribe included) would point at ${config.publicUrl}, which readers cannot open. Set it to the address of this site, e.g. https://papers.example.org`,
      { variable: "PAPERMAIL_PUBLIC_URL" },
    );
  }
  const secret = resolveSecret(db, config.secret);
  const owner = ownerId();
  // Quota places are counted only when a relay with a daily limit is configured (as `deliverOptions.limits` says).
  const recovered = recoverInterruptedDeliveries(db, clock.now(), journalFolder(config.dbPath), Boolean(config.smtpUrl && config.smtpDailyLimit !== undefined));
  pruneSendBuckets(db, clock.now());
  const requeued = options.retryUnknown ? requeueUnknown(db, clock.now().toISOString()) : 0;
  const digests: PublishResult["digests"] = [];
  const deliverOptions: Omit<DeliverOptions, "onProgress"> = {
    concurrency: config.smtpUrl ? config.smtpPool : 1,
    signal: options.signal,
    retry: { ...DEFAULT_RETRY, giveUpMs: config.retryGiveUpHours * 3600_000 },
    limits: { rate: config.smtpUrl ? config.smtpRate : undefined, daily: config.smtpUrl ? config.smtpDailyLimit : undefined },
    bounceAddress: config.smtpUrl ? config.bounceAddress : undefined,
    bouncePolicy: { softLimit: config.softBounceLimit, softDays: config.softBounceDays },
    ...options.deliver,
  };

  const send = async (digestId: number) => {
    const digest = findDigest(db, digestId)!;
    const mailer = createMailer(config, String(digestId), { db });
    try {
      const report = await deliverDigest({ db, mailer, clock, config, secret, owner }, digestId, {
        ...deliverOptions,
        onProgress: options.onDigest?.(digestId, digest.recipientCount),
      });
      digests.push({ ...report, edition: digest.edition, subject: digest.subject, papers: digest.paperCount, mail: mailer.description });
    } finally {
      await mailer.close();
    }
  };
  const halted = () => Boolean(options.signal?.aborted || digests.some((d) => d.stopped));

  const edition = options.edition ?? "daily";
  const found = activeDigestIds(db, clock.now().toISOString());
  for (const id of found) {
    if (halted()) break;
    await send(id);
  }
  // Helping with another edition's digest does not hold this one back.
  const sameKind = found.filter((id) => findDigest(db, id)?.edition === edition);
  let heldBack: string | undefined;
  let nothingNew: string | undefined;
  if (sameKind.length > 0) heldBack = `digest #${sameKind.join(", #")} was still being sent; new papers wait for the next run`;
  else if (options.freeze !== false && !halted()) {
    const now = clock.now();
    const id = freezeEdition(db, {
      edition,
      ...editionSettings(config),
      ...(options.maxPapers !== undefined ? { maxPapers: options.maxPapers } : {}),
      at: now.toISOString(),
      subject: (papers, days) => digestSubject(papers.map((p) => p.title), days, edition),
      explain: (sentence) => (nothingNew = sentence),
    });
    if (id !== undefined) await send(id);
  }
  return { recovered, requeued, digests, waiting: waitingDigests(db, clock.now()), heldBack, nothingNew };
}
