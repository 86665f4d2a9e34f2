import type { IncomingMessage, ServerResponse } from "node:http";

/** What a handler gets besides the request: the parsed target and the path's captured parts. */
export interface RouteMatch {
  url: URL;
  /** The path pattern's groups ([] for a fixed path). */
  params: string[];
}

export type Handler = (req: IncomingMessage, res: ServerResponse, match: RouteMatch) => Promise<void> | void;

/** One path and what each method does there; HEAD is answered by GET. */
export interface Route {
  path: string | RegExp;
  GET?: Handler;
  POST?: Handler;
}

/**
 * Finds the route for a request and runs it. A known path asked with another method is
 * "method not allowed", with the methods it has: the table is the one list of paths, so
 * the 405 cannot drift from the routes.
 */
export async function dispatch(routes: readonly Route[], req: IncomingMessage, res: ServerResponse, url: URL): Promise<{ answered: true } | { answered: false; allow?: string }> {
  const method = req.method === "HEAD" ? "GET" : req.method;
  for (const route of routes) {
    const params = matchPath(route.path, url.pathname);
    if (!params) continue;
    const handler = method === "GET" ? route.GET : method === "POST" ? route.POST : undefined;
    if (!handler) return { answered: false, allow: [route.GET ? "GET, HEAD" : "", route.POST ? "POST" : ""].filter(Boolean).join(", ") };
    await handler(req, res, { url, params });
    return { answered: true };
  }
  return { answered: false };
}

function matchPath(pattern: string | RegExp, path: string): string[] | undefined {
  if (typeof pattern === "string") return pattern === path ? [] : undefined;
  const m = pattern.exec(path);
  return m ? m.slice(1) : undefined;
}
