import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { defer } from "../helpers/cleanup.js";
import { siteWithDigest, startSite } from "../helpers/site.js";
import { makeCertificates } from "../helpers/tls.js";
import { addConfirmedReader } from "../../src/subscribers/manage.js";

/*
 * Bounces and complaints as the providers post them: each verified the provider's way
 * with keys and certificates made here, and each tied to the reader by our Message-ID.
 */

const statusOf = (site: Awaited<ReturnType<typeof startSite>>, email: string) =>
  (site.ctx.db.prepare("SELECT status FROM subscribers WHERE email = ?").get(email) as { status: string }).status;

const postJson = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

/** A local stand-in for Amazon's certificate host: serves the signing certificate and records subscription confirmations. */
async function snsHost(certPem: Buffer) {
  const visits: string[] = [];
  const server = createServer((req, res) => {
    visits.push(req.url ?? "");
    if (req.url === "/cert.pem") res.end(certPem);
    else if (req.url?.startsWith("/confirm")) res.end("<ConfirmSubscriptionResponse/>");
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  defer(() => new Promise<void>((r) => server.close(() => r())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, visits };
}

/** An SNS message signed as SNS signs it (the fields in order, "Name\nvalue\n"). */
function snsMessage(key: KeyObject | Buffer, certUrl: string, fields: Record<string, string>, version: "1" | "2" = "1") {
  const order = fields.Type === "Notification" ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = order.filter((f) => fields[f] !== undefined).map((f) => `${f}\n${fields[f]}\n`).join("");
  const Signature = sign(version === "1" ? "sha1" : "sha256", Buffer.from(text), key).toString("base64");
  return JSON.stringify({ ...fields, SignatureVersion: version, Signature, SigningCertURL: certUrl });
}

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-events";

describe("bounce and complaint webhooks", () => {
  it("Amazon SES through SNS: confirms the subscription, applies a signed bounce once, refuses forged, stale, foreign and replayed ones", async () => {
    const { key, cert } = makeCertificates();
    const host = await snsHost(cert);
    const { site, mail } = await siteWithDigest({ env: { PAPERMAIL_SES_TOPIC_ARNS: TOPIC, PAPERMAIL_SNS_CERT_URL: `${host.base}/` } });
    const url = `${site.base}/webhooks/ses`;
    const certUrl = `${host.base}/cert.pem`;
    const now = new Date().toISOString();

    const confirm = snsMessage(key, certUrl, { Type: "SubscriptionConfirmation", MessageId: "c-1", Token: "tok", TopicArn: TOPIC, Message: "You have chosen to subscribe", SubscribeURL: `${host.base}/confirm?Token=tok`, Timestamp: now });
    const confirmed = await postJson(url, confirm);
    expect(confirmed.status).toBe(200);
    expect(host.visits).toContain("/confirm?Token=tok");

    const notification = (id: string, timestamp: string, version: "1" | "2" = "2") =>
      snsMessage(
        key,
        certUrl,
        {
          Type: "Notification",
          MessageId: id,
          TopicArn: TOPIC,
          Timestamp: timestamp,
          Message: JSON.stringify({
            notificationType: "Bounce",
            bounce: { bounceType: "Permanent", bounceSubType: "General", bouncedRecipients: [{ emailAddress: "ada@example.org", status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 user unknown" }] },
            mail: { commonHeaders: { messageId: mail.messageId } },
          }),
        },
        version,
      );
    // Forged: the signature does not cover what was changed.
    const forged = JSON.parse(notification("n-1", now)) as Record<string, string>;
    forged.Message = forged.Message!.replace("Permanent", "Transient");
    expect((await postJson(url, JSON.stringify(forged))).status).toBe(403);
    // Stale: signed two hours ago. A topic we did not subscribe to. A certificate off Amazon's hosts.
    expect((await postJson(url, notification("n-2", new Date(Date.now() - 2 * 3600_000).toISOString()))).status).toBe(403);
    expect((await postJson(url, notification("n-3", now).replace(TOPIC, "arn:aws:sns:eu-west-1:123456789012:other"))).status).toBe(403);
    const offHost = snsMessage(key, "https://evil.example.org/cert.pem", { Type: "Notification", MessageId: "n-4", TopicArn: TOPIC, Timestamp: now, Message: "{}" });
    expect((await postJson(url, offHost)).status).toBe(403);
    expect(statusOf(site, "ada@example.org")).toBe("active");

    const good = notification("n-5", now, "1");
    const applied = await postJson(url, good);
    expect(applied.status).toBe(200);
    expect(await applied.json()).toMatchObject({ provider: "ses", events: 1, applied: 1 });
    expect(statusOf(site, "ada@example.org")).toBe("bounced");
    // The same request again: nothing more happens.
    expect((await postJson(url, good)).status).toBe(409);
    expect(site.ctx.db.prepare("SELECT count(*) AS n FROM bounce_events").get()).toEqual({ n: 1 });
  });

  it("Postmark: basic auth or the secret header; our Message-ID comes back as metadata", async () => {
    const secret = "postmark-secret-0123456789";
    const { site, mail } = await siteWithDigest({ env: { PAPERMAIL_POSTMARK_WEBHOOK_SECRET: secret } });
    expect(mail.headers.get("x-pm-metadata-papermail")).toBe(mail.messageId);
    const url = `${site.base}/webhooks/postmark`;
    const event = (id: number) =>
      JSON.stringify({ RecordType: "Bounce", ID: id, Type: "HardBounce", Email: "ada@example.org", Details: "smtp;550 5.1.1 The email account that you tried to reach does not exist", Metadata: { papermail: mail.messageId } });
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`postmark:${password}`).toString("base64")}` });

    const unsigned = await postJson(url, event(1));
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await postJson(url, event(1), basic("wrong-secret-0123456789"))).status).toBe(403);
    expect((await postJson(url, event(1), { "x-papermail-secret": "wrong" })).status).toBe(403);
    expect(statusOf(site, "ada@example.org")).toBe("active");

    expect((await postJson(url, event(1), basic(secret))).status).toBe(200);
    expect(statusOf(site, "ada@example.org")).toBe("bounced");
    expect((await postJson(url, event(1), { "x-papermail-secret": secret })).status).toBe(409);
  });

  it("Mailgun: an HMAC over timestamp and token, fresh; the provider's own suppression is not the reader's bounce", async () => {
    const signingKey = "mailgun-signing-key-0123456789";
    const { site, mail } = await siteWithDigest({ env: { PAPERMAIL_MAILGUN_SIGNING_KEY: signingKey } });
    const url = `${site.base}/webhooks/mailgun`;
    const body = (id: string, eventData: Record<string, unknown>, at = Math.floor(Date.now() / 1000), keyUsed = signingKey) => {
      const token = `token-${id}`;
      const signature = createHmac("sha256", keyUsed).update(`${at}${token}`).digest("hex");
      return JSON.stringify({ signature: { timestamp: String(at), token, signature }, "event-data": { id, recipient: "ada@example.org", message: { headers: { "message-id": mail.messageId!.slice(1, -1) } }, ...eventData } });
    };
    const hard = { event: "failed", severity: "permanent", reason: "bounce", "delivery-status": { code: 550, message: "5.1.1 The email account does not exist", "enhanced-code": "5.1.1" } };

    // Mailgun keeps our address on its own list: a refusal of our side, counted, the reader stays.
    const suppressed = await postJson(url, body("ev-1", { event: "failed", severity: "permanent", reason: "suppress-bounce", "delivery-status": { message: "Not delivering to previously bounced address" } }));
    expect(suppressed.status).toBe(200);
    expect(statusOf(site, "ada@example.org")).toBe("active");
    expect(site.ctx.db.prepare("SELECT kind, reason FROM bounce_events").all()).toEqual([{ kind: "sender", reason: "suppressed" }]);

    expect((await postJson(url, body("ev-2", hard, undefined, "another-key-0123456789"))).status).toBe(403);
    expect((await postJson(url, body("ev-2", hard, Math.floor(Date.now() / 1000) - 3 * 3600))).status).toBe(403);
    expect((await postJson(url, JSON.stringify({ "event-data": { id: "ev-2", event: "failed" } }))).status).toBe(400);
    expect(statusOf(site, "ada@example.org")).toBe("active");

    const good = body("ev-2", hard);
    expect((await postJson(url, good)).status).toBe(200);
    expect(statusOf(site, "ada@example.org")).toBe("bounced");
    expect((await postJson(url, good)).status).toBe(409);
  });

  it("SendGrid: an ECDSA signature over timestamp and body; a complaint in a batch suppresses its reader once", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const verificationKey = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const { site, mail } = await siteWithDigest({ env: { PAPERMAIL_SENDGRID_PUBLIC_KEY: verificationKey } });
    const url = `${site.base}/webhooks/sendgrid`;
    const batch = JSON.stringify([
      { email: "ada@example.org", event: "delivered", sg_event_id: "sg-1", "smtp-id": mail.messageId, timestamp: 1 },
      { email: "ada@example.org", event: "spamreport", sg_event_id: "sg-2", "smtp-id": mail.messageId, timestamp: 2 },
    ]);
    const signed = (body: string, at = Math.floor(Date.now() / 1000), key = privateKey) => ({
      "x-twilio-email-event-webhook-timestamp": String(at),
      "x-twilio-email-event-webhook-signature": sign("sha256", Buffer.concat([Buffer.from(String(at)), Buffer.from(body)]), key).toString("base64"),
    });

    expect((await postJson(url, batch)).status).toBe(401);
    expect((await postJson(url, batch, signed(batch, undefined, generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey))).status).toBe(403);
    expect((await postJson(url, batch.replace("sg-2", "sg-3"), signed(batch))).status).toBe(403);
    expect((await postJson(url, batch, signed(batch, Math.floor(Date.now() / 1000) - 7200))).status).toBe(403);
    expect(statusOf(site, "ada@example.org")).toBe("active");

    const headers = signed(batch);
    const first = await postJson(url, batch, headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ events: 2, applied: 1 });
    expect(statusOf(site, "ada@example.org")).toBe("complained");
    expect((await postJson(url, batch, headers)).status).toBe(409);
  });

  it("answers 404 for a provider that is not configured, and an event about mail we never sent changes nobody", async () => {
    const signingKey = "mailgun-signing-key-0123456789";
    const site = await startSite({ env: { PAPERMAIL_MAILGUN_SIGNING_KEY: signingKey } });
    for (const provider of ["ses", "postmark", "sendgrid"]) expect((await postJson(`${site.base}/webhooks/${provider}`, "[]")).status).toBe(404);
    addConfirmedReader(site.ctx.db, "bob@example.org", new Date().toISOString());
    const at = Math.floor(Date.now() / 1000);
    const signature = createHmac("sha256", signingKey).update(`${at}t`).digest("hex");
    const r = await postJson(
      `${site.base}/webhooks/mailgun`,
      JSON.stringify({ signature: { timestamp: String(at), token: "t", signature }, "event-data": { id: "x", event: "complained", recipient: "bob@example.org", message: { headers: { "message-id": "forged@example.org" } } } }),
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ unverified: 1, applied: 0 });
    expect(statusOf(site, "bob@example.org")).toBe("active");
  });
});
