import { domainToASCII } from "node:url";

export type AddressCheck = { ok: true; address: string } | { ok: false; reason: string };

/** RFC 5322 atext, plus any non-ASCII letter, mark, number or symbol (RFC 6531: an internationalised address). */
const ATEXT = "(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[\\p{L}\\p{M}\\p{N}\\p{S}\\p{Pc}\\p{Pd}])";
const LOCAL_RE = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`, "u");
const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks one plain address strictly (no display name, quotes, comments, commas or
 * line breaks; at most 254 characters) and returns it normalised: lower case,
 * international domain in punycode. Surrounding spaces are forgiven. Letters of any
 * script are allowed before the @ (RFC 6531); mail to such an address needs a relay
 * that offers SMTPUTF8.
 */
export function checkAddress(input: string, options: { allowSingleLabel?: boolean } = {}): AddressCheck {
  if (/[\r\n]/.test(input)) return { ok: false, reason: "contains a line break" };
  // Non-ASCII letters in one composed form, so one address is stored once.
  const value = input.trim().normalize("NFC");
  if (value === "") return { ok: false, reason: "is empty" };
  if (value.length > 254) return { ok: false, reason: `is ${value.length} characters long (at most 254)` };
  if (/[<>"(),;:\\\[\]\s]/.test(value)) return { ok: false, reason: "must be one plain address like name@example.org, without names, quotes, comments, commas or spaces" };
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1 || value.indexOf("@") !== at) return { ok: false, reason: "must contain exactly one @ between a name and a domain" };
  const local = value.slice(0, at);
  if (Buffer.byteLength(local) > 64) return { ok: false, reason: "has more than 64 bytes before the @" };
  if (!LOCAL_RE.test(local)) return { ok: false, reason: `has an invalid part before the @ ("${local}")` };
  const domain = domainToASCII(value.slice(at + 1).toLowerCase());
  const labels = domain.split(".");
  if (domain === "" || !labels.every((l) => LABEL_RE.test(l))) return { ok: false, reason: `has an invalid domain ("${value.slice(at + 1)}")` };
  if (labels.length < 2 && !options.allowSingleLabel) return { ok: false, reason: `has a domain without a dot ("${domain}")` };
  const address = `${local.toLowerCase()}@${domain}`;
  if (address.length > 254) return { ok: false, reason: "is longer than 254 characters once normalised" };
  return { ok: true, address };
}

/** True when `input` is an acceptable address (single-label domains allowed, for local senders). */
export function isValidAddress(input: string): boolean {
  return checkAddress(input, { allowSingleLabel: true }).ok;
}
