import { describe, expect, it } from "vitest";
import { ingestFile } from "../../../src/ingest/ingest-file.js";
import { publishDigests } from "../../../src/digest/publish.js";
import { addConfirmedReader, suppressAddress } from "../../../src/subscribers/manage.js";
import { findSubscriberByEmail, setChoices } from "../../../src/store/subscribers.js";
import { recordFetchRun } from "../../../src/store/operations.js";
import { runCli } from "../../helpers/cli.js";
import { SAMPLE_FILES } from "../../helpers/files.js";
import { startSite } from "../../helpers/site.js";

const PASSWORD = "correct horse battery staple";

/** A browser's cookie jar for one site, enough for the console's two cookies. */
function jar() {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    take(r: Response) {
      for (const c of r.headers.getSetCookie()) {
        const [pair] = c.split(";");
        const [k, ...v] = pair!.split("=");
        if (v.join("=") === "") cookies.delete(k!);
        else cookies.set(k!, v.join("="));
      }
    },
  };
}

async function consoleSite(env: Record<string, string> = {}) {
  const site = await startSite({ env: { PAPERMAIL_ADMIN_PASSWORD: PASSWORD, ...env } });
  const cookies = jar();
  const request = async (path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}) => {
    const r = await fetch(site.base + path, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      redirect: "manual",
      headers: { cookie: cookies.header(), ...(init.form ? { "content-type": "application/x-www-form-urlencoded" } : {}), ...init.headers },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    cookies.take(r);
    return { status: r.status, headers: r.headers, text: await r.text() };
  };
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const login = async (password = PASSWORD) => {
    const form = await request("/admin/login");
    return request("/admin/login", { form: { csrf: csrfOf(form.text), password } });
  };
  return { ...site, request, csrfOf, login, cookies };
}

describe("the operator console", () => {
  it("links digests on the site, shows times as people read them, says how fetches fail, names suppressed readers and what was sent", async () => {
    const c = await consoleSite();
    for (const email of ["ada@example.org", "bob@example.org", "cy@example.org"]) addConfirmedReader(c.ctx.db, email, new Date().toISOString());
    setChoices(c.ctx.db, findSubscriberByEmail(c.ctx.db, "bob@example.org")!.id, { topics: ["protein folding"] });
    suppressAddress(c.ctx.db, "cy@example.org", "asked by phone", new Date().toISOString());
    await ingestFile(c.ctx, SAMPLE_FILES[0]!);
    await publishDigests(c.ctx, { retryUnknown: false });
    for (let i = 0; i < 3; i++) recordFetchRun(c.ctx.db, new Date().toISOString(), true);
    await c.login();
    const overview = (await c.request("/admin")).text;
    // The digest's page is on the site, which the admin listener does not serve.
    expect(overview).toContain(`href="${c.base}/digests/1"`);
    expect(overview).toMatch(/Last dump ingested: [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} UTC/);
    expect(overview).not.toMatch(/Last dump ingested: \d{4}-/);
    expect(overview).toMatch(/last fetch: 3 runs failed in a row, the last at [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} UTC; last success never/);
    expect(overview).toContain("Complaint rate: 0.00% (0 complaints over");
    expect((await c.request("/admin/digests")).text).toContain(`href="${c.base}/digests/1"`);
    expect((await c.request("/admin/readers")).text).toMatch(/cy@example.org<\/a><\/td><td>suppressed \(unsubscribed\)/);
    // Readers skipped by their own choices are not counted as owed a message.
    const status = await runCli(["status"], { cwd: c.cwd, env: c.env });
    expect(status.stdout).toMatch(/last digest  #1 of .+: \d+ papers; sent to 1 of 1 reader \(1 skipped: nothing new for their choices, or no longer subscribed\)/);
  });

  it("is off without a password", async () => {
    const site = await startSite();
    expect((await fetch(`${site.base}/admin`)).status).toBe(404);
  });

  it("logs in with a session cookie that is HttpOnly and SameSite=Strict, serves no-store pages, and logs out", async () => {
    const c = await consoleSite();
    const first = await c.request("/admin");
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/admin/login");
    const ok = await c.login();
    expect(ok.status).toBe(303);
    const cookie = ok.headers.getSetCookie().find((x) => x.startsWith("papermail_admin="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/admin/);
    expect(cookie).not.toMatch(/Secure/);
    const overview = await c.request("/admin");
    expect(overview.status).toBe(200);
    expect(overview.headers.get("cache-control")).toBe("no-store");
    expect(overview.text).toContain("<h1>Overview</h1>");
    expect(overview.text).toMatch(/<svg [^>]*role="img"/);
    expect(c.logs.some((l) => /admin: operator at 127\.0\.0\.1 logged in/.test(l))).toBe(true);
    // Logging out needs the form's token too.
    expect((await c.request("/admin/logout", { form: { csrf: "forged" } })).status).toBe(403);
    const out = await c.request("/admin/logout", { form: { csrf: c.csrfOf(overview.text) } });
    expect(out.status).toBe(303);
    expect((await c.request("/admin")).status).toBe(303);
  });

  it("marks the cookie Secure behind HTTPS", async () => {
    const c = await consoleSite({ PAPERMAIL_PUBLIC_URL: "https://papers.example.org" });
    const ok = await c.login();
    expect(ok.headers.getSetCookie().find((x) => x.startsWith("papermail_admin="))).toMatch(/; Secure/);
  });

  it("limits failed logins per client, then locks", async () => {
    const c = await consoleSite();
    for (let i = 0; i < 5; i++) expect((await c.login("wrong password here")).status).toBe(401);
    const limited = await c.login();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(c.logs.filter((l) => l.startsWith("admin: failed login")).length).toBe(5);
  });

  it("refuses a login form without its own token (login CSRF)", async () => {
    const c = await consoleSite();
    expect((await c.request("/admin/login", { form: { csrf: "x", password: PASSWORD } })).status).toBe(403);
  });

  it("finds a reader, changes their choices, unsubscribes, suppresses and lifts, through the CLI's functions, each logged", async () => {
    const c = await consoleSite();
    addConfirmedReader(c.ctx.db, "ada@example.org", new Date().toISOString());
    await ingestFile(c.ctx, SAMPLE_FILES[0]!);
    await publishDigests(c.ctx, { retryUnknown: false });
    await c.login();
    const list = await c.request("/admin/readers?q=ada");
    const id = /href="\/admin\/readers\/(\d+)"/.exec(list.text)![1]!;
    const reader = await c.request(`/admin/readers/${id}`);
    expect(reader.text).toContain("ada@example.org");
    expect(reader.text).toMatch(/#1<\/a><\/td><td>sent/);
    const csrf = c.csrfOf(reader.text);
    // Without the token nothing changes.
    expect((await c.request(`/admin/readers/${id}/choices`, { form: { cadence: "weekly" } })).status).toBe(403);
    const saved = await c.request(`/admin/readers/${id}/choices`, { form: { csrf, cadence: "weekly", topics: "speech", min_upvotes: "2", format: "compact" } });
    expect(saved.text).toContain("Choices saved.");
    const row = c.ctx.db.prepare("SELECT cadence, topics, min_upvotes AS min, format FROM subscribers WHERE id = ?").get(Number(id));
    expect(row).toEqual({ cadence: "weekly", topics: '["speech"]', min: 2, format: "compact" });
    const bad = await c.request(`/admin/readers/${id}/choices`, { form: { csrf, min_upvotes: "-3" } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("min_upvotes");
    await c.request(`/admin/readers/${id}/unsubscribe`, { form: { csrf } });
    expect((c.ctx.db.prepare("SELECT status FROM subscribers WHERE id = ?").get(Number(id)) as { status: string }).status).toBe("unsubscribed");

    const added = await c.request("/admin/suppressions/add", { form: { csrf, email: "spam-trap@example.org", reason: "a known trap" } });
    expect(added.text).toContain("Suppressed spam-trap@example.org.");
    expect(added.text).toContain("a known trap");
    const tooLong = await c.request("/admin/suppressions/add", { form: { csrf, email: "x@example.org", reason: "r".repeat(201) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain("the reason is at most 200 characters");
    const lifted = await c.request("/admin/suppressions/lift", { form: { csrf, email: "spam-trap@example.org" } });
    expect(lifted.text).toContain("Lifted: spam-trap@example.org is pending");
    expect(c.logs.filter((l) => l.startsWith("admin: operator at 127.0.0.1 ")).map((l) => l.replace(/^admin: operator at 127\.0\.0\.1 /, ""))).toEqual([
      "logged in",
      "changed the choices of ada@example.org",
      "unsubscribed ada@example.org",
      "suppressed spam-trap@example.org",
      "lifted the suppression of spam-trap@example.org (was unsubscribed)",
    ]);
  });

  it("sends a test copy of a published digest: the reader's message, byte for byte, but for the recipient's own parts", async () => {
    const c = await consoleSite();
    addConfirmedReader(c.ctx.db, "ada@example.org", new Date().toISOString());
    await ingestFile(c.ctx, SAMPLE_FILES[0]!);
    await publishDigests(c.ctx, { retryUnknown: false });
    await c.login();
    const page = await c.request("/admin/digests");
    const sent = await c.request("/admin/digests/1/test", { form: { csrf: c.csrfOf(page.text), to: "me@example.org" } });
    expect(sent.text).toContain("Sent a test copy of digest #1 to me@example.org");
    await c.mailCount(2);
    const [reader, copy] = c.smtp.received.map((m) => m.raw.toString("latin1"));
    // The recipient's own parts: the To and Message-ID lines, the unsubscribe headers, and the
    // address and links the body names (each quoted-printable slot of its own).
    const own = (raw: string, to: string) =>
      raw
        .replace(/^(To|Message-ID|List-Unsubscribe): .*\r\n/gm, "")
        .replaceAll(to, "RECIPIENT")
        .replace(/=\r\n/g, "")
        .replace(/https?:\/\/[^\s"<>]*\/(unsubscribe|preferences)\/[A-Za-z0-9._=-]+/g, "$1-LINK");
    expect(own(copy!, "me@example.org")).toBe(own(reader!, "ada@example.org"));
    const mail = await c.smtp.parse(c.smtp.received[1]!);
    expect(mail.subject).toMatch(/^Trending on Hugging Face · Dec 12/);
  });
});
