import { createPublicKey, type KeyObject } from "node:crypto";

/** SendGrid's verification key as its page shows it (base64 DER, or PEM) as a key object, or undefined. */
export function ecPublicKey(text: string): KeyObject | undefined {
  try {
    const key = /-----BEGIN PUBLIC KEY-----/.test(text)
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ""), "base64"), format: "der", type: "spki" });
    return key.asymmetricKeyType === "ec" ? key : undefined;
  } catch {
    return undefined;
  }
}

export function isEcPublicKey(text: string): boolean {
  return ecPublicKey(text) !== undefined;
}
