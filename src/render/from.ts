import { checkAddress } from "../model/address.js";
import { encodeHeaderWords } from "./header-words.js";

/** The display name and address of a From setting: `addr`, `Name <addr>` or `"Name, Inc." <addr>`. */
export function parseFrom(value: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value);
  if (!m) return { name: "", address: value.trim() };
  let name = m[1]!;
  // A quoted display name: outer quotes off, backslash escapes undone.
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/\\(.)/g, "$1");
  return { name, address: m[2]!.trim() };
}

/** The address part of a From value, as the envelope and headers carry it: an international domain in punycode. */
export function fromAddress(from: string): string {
  const { address } = parseFrom(from);
  const check = checkAddress(address, { allowSingleLabel: true });
  return check.ok ? check.address : address;
}

/**
 * `"Name" <address>` for the From header: the name a quoted-string with quotes and
 * backslashes escaped (RFC 5322 3.2.4), or encoded words when it is not ASCII.
 */
export function formatFrom(from: string): string {
  const { name } = parseFrom(from);
  const address = fromAddress(from);
  if (!name) return `<${address}>`;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/[\\"]/g, "\\$&")}" <${address}>`;
  return `${encodeHeaderWords(name)} <${address}>`;
}
