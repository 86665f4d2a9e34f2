/** One relay of PAPERMAIL_SMTP_URL: its URL as the SMTP session takes it, and its own limits. */
export interface RelaySpec {
  /** smtp:// or smtps:// URL, without papermail's own parameters. */
  url: string;
  /** "host:port", how logs, status and metrics name it (never a password). */
  name: string;
  /** Messages per second through this relay. */
  rate?: number;
  /** Messages per rolling 24 hours through this relay. */
  daily?: number;
}

/** The parameters papermail reads from a relay URL's query; the rest of the URL goes to the SMTP session. */
const PARAMETERS = ["rate", "daily"] as const;

/** Splits PAPERMAIL_SMTP_URL at the commas that start another relay (a password may hold a comma). */
export function splitRelayUrls(value: string): string[] {
  return value
    .split(/,\s*(?=smtps?:\/\/)/i)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Each relay of PAPERMAIL_SMTP_URL with its limits, in order of preference; or the problem, naming the relay. */
export function parseRelays(value: string): { relays: RelaySpec[] } | { error: string } {
  const relays: RelaySpec[] = [];
  const urls = splitRelayUrls(value);
  for (const [i, raw] of urls.entries()) {
    const which = urls.length > 1 ? `relay ${i + 1} ` : "";
    if (!/^smtps?:\/\/[^/]/i.test(raw)) return { error: `${which}must be an smtp:// or smtps:// URL, e.g. smtp://localhost:25` };
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { error: `${which}is not a URL` };
    }
    const spec: RelaySpec = { url: "", name: `${url.hostname}:${url.port || (url.protocol === "smtps:" ? 465 : 587)}` };
    for (const [key, text] of [...url.searchParams]) {
      if (!(PARAMETERS as readonly string[]).includes(key)) return { error: `${which}has an unknown parameter "${key}" (papermail reads rate and daily, e.g. ?rate=14&daily=50000)` };
      const n = Number(text);
      if (key === "rate" && !(n > 0 && n <= 100_000)) return { error: `${which}rate must be a number of messages per second above 0` };
      if (key === "daily" && !(Number.isInteger(n) && n >= 1)) return { error: `${which}daily must be a whole number of messages, at least 1` };
      spec[key as "rate" | "daily"] = n;
    }
    url.search = "";
    spec.url = url.toString().replace(/\/$/, "");
    relays.push(spec);
  }
  if (relays.length === 0) return { error: "names no relay" };
  const names = relays.map((r) => r.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) return { error: `names ${twice} twice` };
  return { relays };
}
