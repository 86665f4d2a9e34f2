import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Headers on every answer: no scripts at all, no framing, no referrer (tokens live in
 * URLs), and no caching unless a route says its answer is public: pages reached by a
 * token show a reader's address and choices, and must not stay in a shared cache or
 * the browser's history cache.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** Form bodies are tiny; anything larger is refused before it is read in full. */
export const MAX_BODY_BYTES = 8 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A request's target as a URL, or undefined when it cannot be parsed ("//a b"): every handler reads it through here. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? "/", "http://localhost");
  } catch {
    return undefined;
  }
}

/** Writes a complete answer with the security headers. */
export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": String(Buffer.byteLength(body)), ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/** Reads a request body of at most MAX_BODY_BYTES as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req, MAX_BODY_BYTES)).toString("utf8");
}

/** Reads a request body of at most `limit` bytes as it is; more is refused (413) as it streams in. */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? 0) > limit) throw new HttpError(413, "request body too large");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, "request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads an application/x-www-form-urlencoded body of at most MAX_BODY_BYTES. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "" && type !== "application/x-www-form-urlencoded") throw new HttpError(415, "forms are application/x-www-form-urlencoded");
  return new URLSearchParams(await readBody(req));
}

/**
 * True for an RFC 8058 one-click request. Mail providers send the body
 * "List-Unsubscribe=One-Click" url-encoded or as multipart/form-data (as the RFC's
 * own example does); the token in the URL is what authorises it, so either will do.
 */
export function isOneClickBody(body: string): boolean {
  return /List-Unsubscribe=One-Click/.test(body) || /name="List-Unsubscribe"\r?\n\r?\nOne-Click/.test(body);
}

/** The client's address, for rate limits: behind a trusted proxy, the one it forwarded for. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? String(req.headers["x-forwarded-for"] ?? "").split(",").map((s) => s.trim()).filter(Boolean) : [];
  // The last entry is the one our proxy added; earlier ones are the client's word.
  return forwarded[forwarded.length - 1] ?? req.socket.remoteAddress ?? "unknown";
}

/**
 * The network a client address stands for, for limits: an IPv6 client usually holds a
 * whole /64, so its prefix counts as one client; an IPv4-mapped address is its IPv4.
 */
export function clientNetwork(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (g || "0").toLowerCase().replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** At most `limit` events per key in a sliding `windowMs`; memory stays bounded. */
export function createRateLimiter(limit: number, windowMs: number, now: () => number = Date.now) {
  const hits = new Map<string, number[]>();
  return {
    /** True when this event is allowed (and counts it). */
    allow(key: string): boolean {
      const t = now();
      if (hits.size > 10_000) for (const [k, v] of hits) if (v[v.length - 1]! <= t - windowMs) hits.delete(k);
      const recent = (hits.get(key) ?? []).filter((at) => at > t - windowMs);
      if (recent.length >= limit) {
        hits.set(key, recent);
        return false;
      }
      recent.push(t);
      hits.set(key, recent);
      return true;
    },
  };
}
