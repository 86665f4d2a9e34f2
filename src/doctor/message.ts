import { hostname } from "node:os";
import { authenticate } from "mailauth";
import { fail, pass, warn, type Check } from "./check.js";
import type { Lookup } from "./dns.js";
import { parseMime } from "../bounces/mime-parts.js";
import type { SenderSetup } from "./records.js";

/** One-click unsubscribe (RFC 8058) and List-Id on a composed digest, each signed when papermail signs. */
export function checkListHeaders(raw: Buffer, signs: boolean): Check {
  const name = "list-headers";
  // Read as a receiver reads it, by the bounce reader's MIME parser.
  const h = parseMime(raw).headers;
  const unsubscribe = h.get("list-unsubscribe")?.[0] ?? "";
  const missing: string[] = [];
  if (!/<https:\/\/[^>]+>/.test(unsubscribe)) missing.push("List-Unsubscribe with an https:// link");
  if (!/^List-Unsubscribe=One-Click$/i.test(h.get("list-unsubscribe-post")?.[0] ?? "")) missing.push("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
  if (!h.has("list-id")) missing.push("List-Id");
  if (missing.length > 0) {
    return fail(name, `a composed digest lacks ${missing.join(", ")}`, /https/.test(missing.join()) ? "set PAPERMAIL_PUBLIC_URL to the site's https:// address (one-click links must be https)" : "report this: papermail always writes these headers");
  }
  if (signs) {
    const signed = /(?:^|;)\s*h=([^;]+)/.exec(h.get("dkim-signature")?.[0] ?? "")?.[1]?.toLowerCase().split(":").map((s) => s.trim()) ?? [];
    if (!signed.includes("list-unsubscribe") || !signed.includes("list-unsubscribe-post")) return fail(name, "the DKIM signature does not cover both List-Unsubscribe headers (RFC 8058 asks it to)", "report this: papermail signs both");
  }
  return pass(name, `one-click unsubscribe (${unsubscribe.slice(1, 40)}...), List-Id ${h.get("list-id")![0]}${signs ? ", both signed" : ""}`);
}

/** The composed digest as a receiver would judge it: DKIM, SPF for the sending address, DMARC. */
export async function checkAuthentication(raw: Buffer, lookup: Lookup, setup: SenderSetup, envelopeFrom: string): Promise<Check> {
  const name = "authentication";
  const result = await authenticate(raw, {
    ip: setup.ip,
    sender: envelopeFrom,
    helo: hostname(),
    mta: "papermail-doctor",
    resolver: lookup as never,
    disableArc: true,
    disableBimi: true,
  });
  const signatures = (result.dkim?.results ?? []).filter((r) => r.signingDomain && r.status?.result !== "none");
  const dkim = signatures.map((r) => `${r.signingDomain}: ${r.status?.result}`).join(", ") || "no signature";
  const spf = setup.ip ? `${result.spf ? (result.spf as { status?: { result?: string } }).status?.result : "none"} for ${setup.ip}` : "not evaluated (sending address unknown)";
  const dmarc = result.dmarc ? (result.dmarc as { status?: { result?: string } }).status?.result ?? "none" : "none";
  const detail = `DKIM ${dkim}; SPF ${spf}; DMARC ${dmarc}`;
  if (dmarc === "pass") return pass(name, detail);
  // Without papermail's signature the relay may still sign on the way out: not a verdict on what receivers see.
  if (dmarc === "fail" && !setup.dkim) return warn(name, `without a signature of papermail's, a composed digest fails DMARC here: ${detail}`, "if your relay does not sign with your domain, set PAPERMAIL_DKIM_*");
  if (dmarc === "fail") return fail(name, `a composed digest fails DMARC here: ${detail}`, "mend the spf, dkim and dmarc lines above; a fail here means receivers may refuse the digest");
  return warn(name, `DMARC cannot pass yet: ${detail}`, setup.ip ? null : "give `--ip ADDRESS` (where mail leaves from) to evaluate SPF too");
}
