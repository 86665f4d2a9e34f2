import { hash } from "node:crypto";

/**
 * A paper's identity: its title in Unicode NFKC, case-folded, with punctuation,
 * symbols and whitespace collapsed to single spaces. The dumps carry no ids.
 */
export function paperKey(title: string): string {
  // Printable ASCII needs no Unicode tables: the common case, and the fast one.
  if (/^[\x20-\x7e]*$/.test(title)) return title.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  return title
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\p{P}\p{S}\p{Z}\s]+/gu, " ")
    .trim();
}

/** A short stable id for URLs and feed GUIDs: 16 hex digits of SHA-256(key) (more, should two keys ever share them). */
export function paperSlug(key: string, length = 16): string {
  return hash("sha256", key, "hex").slice(0, length);
}

/** The paper's link until a source with ids exists: the papers page searched for its exact title. */
export function paperUrl(title: string): string {
  return `https://huggingface.co/papers?q=${encodeURIComponent(title)}`;
}
