import { createHash, createPrivateKey, sign, type KeyObject } from "node:crypto";

export interface DkimOptions {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/**
 * Headers signed when present. Both List-Unsubscribe headers are signed, as RFC 8058
 * asks; a header named here but absent is signed as absent (RFC 6376 5.4.2), so no
 * one can add it later.
 */
const SIGNED = [
  "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc", "mime-version", "content-type",
  "content-transfer-encoding", "list-id", "list-unsubscribe", "list-unsubscribe-post", "feedback-id", "auto-submitted",
];

const CRLF_CRLF = Buffer.from("\r\n\r\n");

/**
 * A DKIM signer (RFC 6376, rsa-sha256, c=relaxed/simple) for prepared messages.
 * Simple body canonicalisation hashes the body bytes as they are, so a 100 KB
 * digest costs one SHA-256 pass and one RSA signature; the key is parsed once.
 */
export function createDkimSigner(options: DkimOptions): (chunks: readonly Buffer[]) => Buffer[] {
  const key: KeyObject = createPrivateKey(options.privateKey);
  const algorithm = key.asymmetricKeyType === "ed25519" ? "ed25519-sha256" : "rsa-sha256";
  return (chunks) => {
    const message = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const split = message.indexOf(CRLF_CRLF);
    const headerText = message.toString("latin1", 0, split + 2);
    const body = message.subarray(split + 4);
    const bodyHash = createHash("sha256").update(canonicalBody(body)).digest("base64");
    const headers = parseHeaders(headerText);
    const names = SIGNED.filter((n) => headers.has(n));
    const signedNames = [...names, ...SIGNED.filter((n) => n.startsWith("list-") && !headers.has(n))];
    const value =
      `v=1; a=${algorithm}; c=relaxed/simple; d=${options.domainName}; s=${options.keySelector};\r\n` +
      ` t=${Math.floor(Date.now() / 1000)}; h=${signedNames.join(":")};\r\n bh=${bodyHash};\r\n b=`;
    const signedData = names.map((n) => relaxedHeader(n, headers.get(n)!)).join("") + relaxedHeader("dkim-signature", value).replace(/\r\n$/, "");
    const signature =
      algorithm === "rsa-sha256"
        ? sign("sha256", Buffer.from(signedData, "latin1"), key)
        : sign(null, createHash("sha256").update(signedData, "latin1").digest(), key); // RFC 8463: Ed25519 signs the hash
    const b64 = signature.toString("base64").replace(/(.{72})/g, "$1\r\n ");
    return [Buffer.from(`DKIM-Signature: ${value}${b64}\r\n`, "latin1"), ...chunks];
  };
}

/** The last instance of each header, by lower-case name (RFC 6376 5.4.2 signs from the bottom). */
function parseHeaders(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of text.split(/\r\n(?![ \t])/)) {
    const colon = field.indexOf(":");
    if (colon > 0) out.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1));
  }
  return out;
}

/** Relaxed header canonicalisation (RFC 6376 3.4.2). */
function relaxedHeader(name: string, value: string): string {
  return `${name}:${value.replace(/\r\n(?=[ \t])/g, "").replace(/[ \t]+/g, " ").trim()}\r\n`;
}

/** Simple body canonicalisation (RFC 6376 3.4.3): trailing empty lines become one CRLF. */
function canonicalBody(body: Buffer): Buffer {
  let end = body.length;
  while (end >= 4 && body[end - 1] === 10 && body[end - 2] === 13 && body[end - 3] === 10 && body[end - 4] === 13) end -= 2;
  if (end === 0) return Buffer.from("\r\n");
  return end === body.length ? body : body.subarray(0, end);
}
