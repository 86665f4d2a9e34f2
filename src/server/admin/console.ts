import type { IncomingMessage, ServerResponse } from "node:http";
import { readForm, send } from "../http.js";
import { renderPage } from "../pages.js";
import { csrfMatches, sessionCookie } from "./auth.js";
import { digestRoutes } from "./digest-routes.js";
import { consoleKit, HTML, type ConsoleDeps, type ConsoleRoute } from "./kit.js";
import { consoleLogin } from "./login.js";
import { overviewPage } from "./overview.js";
import { readerRoutes } from "./reader-routes.js";
import { suppressionRoutes } from "./suppression-routes.js";

export type { ConsoleDeps } from "./kit.js";

const TEXT = "text/plain; charset=utf-8";

/**
 * The operator console under /admin: a second face on the functions the CLI uses
 * (no SQL or rule of its own beyond reading for display). Off unless a password is
 * configured. Every page is no-store; every form carries the session's CSRF token;
 * every change is logged with who made it (the operator, from which address).
 * Returns a handler that answers /admin requests (and says whether it did).
 */
export function createConsole(deps: ConsoleDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const kit = consoleKit(deps);
  const { sessions, loginPage, login } = consoleLogin(deps, kit);
  const routes: ConsoleRoute[] = [
    { path: "/admin", GET: ({ res, session }) => overviewPage(deps, kit, res, session) },
    {
      path: "/admin/logout",
      POST({ req, res, session }) {
        sessions.close(session.id);
        deps.log(`admin: ${kit.who(req)} logged out`);
        kit.redirect(res, "/admin/login", { "Set-Cookie": sessionCookie("", kit.secure(req), 0) });
      },
    },
    ...readerRoutes(deps, kit),
    ...suppressionRoutes(deps, kit),
    ...digestRoutes(deps, kit),
  ];

  async function answer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    if (!deps.config.adminPassword) return send(res, 404, TEXT, "The console is off: set PAPERMAIL_ADMIN_PASSWORD (or _HASH) to turn it on.\n");
    const method = req.method === "HEAD" ? "GET" : req.method;
    if (path === "/admin/login") {
      if (method === "GET") return loginPage(req, res, 200);
      if (method === "POST") return login(req, res);
      return send(res, 405, TEXT, "Method not allowed.\n", { Allow: "GET, POST" });
    }
    const session = sessions.find(req);
    if (!session) return kit.redirect(res, "/admin/login");
    if (method !== "GET" && method !== "POST") return send(res, 405, TEXT, "Method not allowed.\n", { Allow: "GET, POST" });
    let form = new URLSearchParams();
    if (method === "POST") {
      form = await readForm(req);
      if (!csrfMatches(session, form.get("csrf"))) {
        return send(res, 403, HTML, renderPage(deps.config, "notice", "Form expired", { heading: "Form expired", message: "This form is out of date. Go back, reload the page and try again." }, "admin-layout"));
      }
    }
    for (const route of routes) {
      const m = typeof route.path === "string" ? (route.path === path ? [] : undefined) : route.path.exec(path)?.slice(1);
      const handler = m && route[method];
      if (handler) return handler({ req, res, url, params: m, session, form, at: deps.clock.now().toISOString() });
    }
    send(res, 404, TEXT, "Not found.\n");
  }

  return async (req, res, url) => {
    if (url.pathname !== "/admin" && !url.pathname.startsWith("/admin/")) return false;
    await answer(req, res, url);
    return true;
  };
}
