import type { IncomingMessage, ServerResponse } from "node:http";
import { applyBounceReport, type BounceOutcome } from "../../bounces/process.js";
import { readWebhookBounded } from "../../bounces/read-bounded.js";
import { confirmSnsSubscription, snsCertificates } from "../../bounces/webhooks/sns-fetch.js";
import { checkMailgun, checkPostmark, checkSendgrid, checkSns, type Refusal } from "../../bounces/webhooks/verify.js";
import type { WebhookProvider } from "../../bounces/webhooks/events.js";
import { describeError } from "../../errors.js";
import { retryWhileBusy } from "../../store/busy.js";
import { ecPublicKey } from "../../util/ec-key.js";
import { readRawBody, send } from "../http.js";
import type { AppDeps } from "../site-pages.js";
import type { Route } from "./route.js";

/** A provider's batch (SendGrid's is the largest, up to a few thousand events) fits well within this. */
const MAX_WEBHOOK_BYTES = 4 * 1024 * 1024;
const JSON_TYPE = "application/json; charset=utf-8";

/** What a webhook request did, for the provider's log and the operator's. */
interface WebhookAnswer {
  provider: WebhookProvider;
  events: number;
  applied: number;
  duplicates: number;
  unverified: number;
  ignored: number;
}

/**
 * /webhooks/ses (SNS), /webhooks/postmark, /webhooks/mailgun and /webhooks/sendgrid:
 * bounces and complaints as the providers post them. Each request is verified the
 * provider's way before anything changes; its events go through the same judgement and
 * proof as a mailed bounce (applyBounceReport), each counted once by its provider id.
 * A provider that is not configured answers 404.
 */
export function webhookRoutes(deps: AppDeps): Route[] {
  const { config, db, clock } = deps;
  const log = deps.log ?? (() => undefined);
  const certificate = snsCertificates();
  const sendgridKey = config.sendgridPublicKey ? ecPublicKey(config.sendgridPublicKey) : undefined;
  const configured: Record<WebhookProvider, boolean> = {
    ses: config.sesTopicArns.length > 0,
    postmark: config.postmarkWebhookSecret !== undefined,
    mailgun: config.mailgunSigningKey !== undefined,
    sendgrid: sendgridKey !== undefined,
  };

  function refuse(res: ServerResponse, provider: WebhookProvider, refusal: Refusal): void {
    log(`webhook ${provider}: refused (${refusal.status}): ${refusal.reason}`);
    const headers: Record<string, string> = refusal.status === 401 && provider === "postmark" ? { "WWW-Authenticate": 'Basic realm="papermail webhooks"' } : {};
    send(res, refusal.status, "text/plain; charset=utf-8", `${refusal.reason}\n`, headers);
  }

  async function receive(req: IncomingMessage, res: ServerResponse, provider: WebhookProvider): Promise<void> {
    if (!configured[provider]) return send(res, 404, "text/plain; charset=utf-8", `Not here: /webhooks/${provider} is off until its setting is made (see papermail help).\n`);
    const body = await readRawBody(req, MAX_WEBHOOK_BYTES);
    const now = clock.now().getTime();
    const maxAge = config.webhookMaxAgeMinutes;
    // The checks that need only the headers and the raw body come before any reading of it.
    if (provider === "postmark") {
      const refusal = checkPostmark(req.headers, config.postmarkWebhookSecret!);
      if (refusal) return refuse(res, provider, refusal);
    }
    if (provider === "sendgrid") {
      const refusal = checkSendgrid(req.headers, body, sendgridKey!, now, maxAge);
      if (refusal) return refuse(res, provider, refusal);
    }
    const read = await readWebhookBounded(provider, body);
    if (read.error) {
      log(`webhook ${provider}: ${read.error}`);
      return send(res, 400, "text/plain; charset=utf-8", `${read.error}\n`);
    }
    if (provider === "mailgun") {
      const refusal = checkMailgun(read.mailgun, config.mailgunSigningKey!, now, maxAge);
      if (refusal) return refuse(res, provider, refusal);
    }
    if (provider === "ses") {
      const sns = read.sns!;
      const refusal = await checkSns(sns, { topics: config.sesTopicArns, certUrl: config.snsCertUrl, nowMs: now, maxAgeMinutes: maxAge, certificate });
      if (refusal) return refuse(res, provider, refusal);
      if (sns.Type === "SubscriptionConfirmation") {
        try {
          await confirmSnsSubscription(sns.SubscribeURL, config.snsCertUrl);
        } catch (err) {
          log(`webhook ses: the subscription to ${sns.TopicArn} cannot be confirmed: ${describeError(err)}`);
          return send(res, 502, "text/plain; charset=utf-8", `the subscription cannot be confirmed: ${describeError(err)}\n`);
        }
        log(`webhook ses: subscribed to ${sns.TopicArn}`);
        return send(res, 200, "text/plain; charset=utf-8", "subscription confirmed\n");
      }
      if (sns.Type === "UnsubscribeConfirmation") {
        log(`webhook ses: ${sns.TopicArn} no longer sends here`);
        return send(res, 200, "text/plain; charset=utf-8", "noted\n");
      }
    }
    const answer: WebhookAnswer = { provider, events: read.reports.length, applied: 0, duplicates: 0, unverified: 0, ignored: 0 };
    for (const report of read.reports) {
      const outcome: BounceOutcome = await retryWhileBusy(() => applyBounceReport({ db, config, clock }, report, `webhook:${provider}`));
      if (outcome.status === "applied") answer.applied++;
      else if (outcome.status === "duplicate") answer.duplicates++;
      else if (outcome.status === "unverified") answer.unverified++;
      else answer.ignored++;
      for (const e of outcome.entries.filter((x) => x.effect !== "none")) log(`webhook ${provider}: ${e.subscriber ?? e.recipient}: ${e.reason} (${e.kind}): ${e.effect}`);
    }
    // Every event was received before: a replay (or a retry of what was done) changes nothing.
    if (answer.events > 0 && answer.duplicates === answer.events) {
      log(`webhook ${provider}: a replay of ${answer.events} event(s) already received: nothing changed`);
      return send(res, 409, JSON_TYPE, `${JSON.stringify({ ...answer, error: "every event of this request was received before" })}\n`);
    }
    if (answer.unverified > 0) log(`webhook ${provider}: ${answer.unverified} event(s) not about mail papermail sent (no Message-ID of ours): nobody changed`);
    send(res, 200, JSON_TYPE, `${JSON.stringify(answer)}\n`);
  }

  return [
    {
      path: /^\/webhooks\/(ses|postmark|mailgun|sendgrid)$/,
      POST: (req, res, match) => receive(req, res, match.params[0] as WebhookProvider),
    },
  ];
}
