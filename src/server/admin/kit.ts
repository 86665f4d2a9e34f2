import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../../config/load.js";
import type { Db } from "../../store/db.js";
import type { Clock } from "../../util/time.js";
import { clientAddress, send } from "../http.js";
import { renderPage } from "../pages.js";
import type { Session } from "./auth.js";

export interface ConsoleDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: (line: string) => void;
}

export const HTML = "text/html; charset=utf-8";

/** A request to a console page, once the session is known (and, for a POST, its CSRF token checked). */
export interface ConsoleRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path pattern's groups. */
  params: string[];
  session: Session;
  /** A POST's form, already read. */
  form: URLSearchParams;
  /** When the request came, as the log and the database record it. */
  at: string;
}

/** One console path and what each method does there. */
export interface ConsoleRoute {
  path: string | RegExp;
  GET?: (r: ConsoleRequest) => void | Promise<void>;
  POST?: (r: ConsoleRequest) => void | Promise<void>;
}

/** What every console page needs: its layout, a redirect, and who made a change (for the log). */
export function consoleKit(deps: ConsoleDeps) {
  const { config } = deps;
  return {
    page(res: ServerResponse, status: number, name: string, title: string, data: Record<string, unknown>, headers: Record<string, string> = {}): void {
      // The digests' pages live on the site, not on the admin listener: links to them are absolute.
      send(res, status, HTML, renderPage(config, name, title, { siteBase: config.publicUrl, ...data }, "admin-layout"), headers);
    },
    redirect(res: ServerResponse, to: string, headers: Record<string, string> = {}): void {
      send(res, 303, "text/plain; charset=utf-8", "See other.\n", { Location: to, ...headers });
    },
    who(req: IncomingMessage): string {
      return `operator at ${clientAddress(req, config.trustProxy)}`;
    },
    /** Secure cookies when the console is reached over HTTPS (directly or behind a proxy that says so). */
    secure(req: IncomingMessage): boolean {
      return config.publicUrl.startsWith("https:") || (config.trustProxy && req.headers["x-forwarded-proto"] === "https");
    },
  };
}

export type ConsoleKit = ReturnType<typeof consoleKit>;
