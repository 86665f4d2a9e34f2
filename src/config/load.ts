import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import type { OAuth2Settings } from "../deliver/transport/oauth2.js";
import { PapermailError } from "../errors.js";
import { SETTINGS, type SettingValues } from "./settings.js";
import { parseRelays, splitRelayUrls, type RelaySpec } from "./relays.js";

/** The sample dumps shipped with papermail: the demo's data. */
export const SAMPLES_DIR = fileURLToPath(new URL("../../samples/", import.meta.url));

/** What papermail works out from the settings. */
interface Derived {
  /** PAPERMAIL_* variables that are not settings, each with the closest one: printed once at start. */
  warnings: string[];
  dbPath: string;
  dumpsDir: string;
  /** Where `fetch` writes: the dumps folder, never the bundled samples a clone tracks (the demo's ./dumps). */
  fetchDir: string;
  outboxDir: string;
  /**
   * Nothing configured (no PAPERMAIL_DUMPS_DIR, no PAPERMAIL_SMTP_URL): the dumps are
   * the bundled samples, marked as demo papers. A configured installation never
   * puts a demo paper in a digest.
   */
  demo: boolean;
  /** The relays of PAPERMAIL_SMTP_URL in order of preference, each with its own limits (empty: the outbox). */
  relays: RelaySpec[];
  /** The first relay's URL (without papermail's parameters): what one-relay code paths and checks use. */
  smtpUrl: string | undefined;
  /** XOAUTH2 login settings, instead of the URL's password. */
  smtpOAuth2: OAuth2Settings | undefined;
  publicUrl: string;
  /** True when PAPERMAIL_PUBLIC_URL was given; else publicUrl is a guess for a local trial. */
  publicUrlSet: boolean;
  dkim: { domainName: string; keySelector: string; privateKey: string } | undefined;
  /** The operators' listener (PAPERMAIL_ADMIN_HOST/PORT), when configured. */
  admin: { host: string; port: number } | undefined;
  /** The console's password, plain or as a scrypt hash; undefined: no console. */
  adminPassword: { plain: string } | { hash: string } | undefined;
  /** The values of the secret settings, as they could appear in a log line (a URL's password raw and decoded). */
  secrets: string[];
}

/** The resolved configuration every command receives: each setting by its key (settings.ts), and what follows from them. */
export type Config = Omit<SettingValues, keyof Derived> & Derived;

/**
 * Reads PAPERMAIL_* from the environment and from `.env` in the working directory
 * (the environment wins). Throws one CONFIG error naming the first bad variable;
 * a secret's value is never repeated in it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const merged: Record<string, string | undefined> = { ...readDotEnv(cwd) };
  for (const [k, v] of Object.entries(env)) if (k.startsWith("PAPERMAIL_")) merged[k] = v;
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  for (const k of Object.keys(merged)) if (merged[k] === "") delete merged[k];

  const values: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = merged[s.name] ?? ("default" in s ? s.default : undefined);
    if (raw === undefined) continue;
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const shown = merged[s.name] === undefined || "secret" in s ? "" : ` (got "${merged[s.name]}")`;
      throw new PapermailError("CONFIG", `${s.name}: ${parsed.error.issues[0]!.message}${shown}`, { variable: s.name });
    }
    values[s.key] = parsed.data;
  }
  const v = values as SettingValues;
  return { ...v, ...derive(v, cwd, Object.keys(merged), merged) };
}

function derive(v: SettingValues, cwd: string, names: string[], merged: Record<string, string | undefined>): Derived {
  const fail = (variable: string, message: string): never => {
    throw new PapermailError("CONFIG", `${variable}: ${message}`, { variable });
  };
  const dkimParts = [v.dkimDomain, v.dkimSelector, v.dkimKeyFile];
  if (dkimParts.some(Boolean) && !dkimParts.every(Boolean)) {
    throw new PapermailError("CONFIG", "PAPERMAIL_DKIM_DOMAIN, PAPERMAIL_DKIM_SELECTOR and PAPERMAIL_DKIM_KEY_FILE must be set together", { variable: "PAPERMAIL_DKIM_DOMAIN" });
  }
  const demo = !v.dumpsDir && !v.smtpUrl;
  const parsed = v.smtpUrl ? parseRelays(v.smtpUrl) : { relays: [] };
  const relays = "relays" in parsed ? parsed.relays : [];
  return {
    warnings: unknownVariables(names),
    dbPath: resolve(cwd, v.dbPath),
    dumpsDir: v.dumpsDir ? resolve(cwd, v.dumpsDir) : demo ? SAMPLES_DIR : resolve(cwd, "dumps"),
    fetchDir: resolve(cwd, v.dumpsDir ?? "dumps"),
    outboxDir: resolve(cwd, v.outboxDir),
    demo,
    relays,
    smtpUrl: relays[0]?.url,
    smtpOAuth2: oauth2Settings(relays[0]?.url, v, fail),
    publicUrl: v.publicUrlSetting ?? `http://localhost:${v.port}`,
    publicUrlSet: v.publicUrlSetting !== undefined,
    dkim: v.dkimDomain && v.dkimSelector && v.dkimKeyFile ? { domainName: v.dkimDomain, keySelector: v.dkimSelector, privateKey: readFileSync(v.dkimKeyFile, "utf8") } : undefined,
    admin: v.adminHost ? { host: v.adminHost, port: v.adminPort } : undefined,
    adminPassword: v.adminPasswordHash ? { hash: v.adminPasswordHash } : v.adminPasswordPlain ? { plain: v.adminPasswordPlain } : undefined,
    secrets: secretsOf(merged),
  };
}

/** The secret settings' values as a log line could show them: each value, each listed one, a URL's password raw and decoded. */
function secretsOf(merged: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const s of SETTINGS) {
    const raw = merged[s.name];
    if (!raw || !("secret" in s)) continue;
    if (s.secret === "value") out.push(raw);
    else if (s.secret === "list") out.push(...raw.split(",").map((x) => x.trim()).filter((x) => x && x !== "generated"));
    else {
      for (const one of splitRelayUrls(raw)) {
        try {
          const password = new URL(one).password;
          if (password) out.push(password, decodeURIComponent(password));
        } catch {
          // Not a URL: the setting's own check refused it already.
        }
      }
    }
  }
  return out;
}

/**
 * XOAUTH2 settings, checked together: a token command, or a client id with a
 * refresh token; the user is the one in PAPERMAIL_SMTP_URL, which then carries no password.
 */
function oauth2Settings(smtpUrl: string | undefined, v: SettingValues, fail: (variable: string, message: string) => never): OAuth2Settings | undefined {
  const command = v.oauth2TokenCommand;
  const refresh = [v.oauth2ClientId, v.oauth2RefreshToken, v.oauth2ClientSecret, v.oauth2Scope];
  if (!command && !refresh.some(Boolean)) return undefined;
  if (command && refresh.some(Boolean)) fail("PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND", "set either a token command or a refresh token (PAPERMAIL_SMTP_OAUTH2_CLIENT_ID, _REFRESH_TOKEN), not both");
  const url = smtpUrl ? new URL(smtpUrl) : undefined;
  if (!url?.username) fail("PAPERMAIL_SMTP_URL", "OAuth2 needs the account to log in as in the URL, e.g. smtps://you%40example.org@smtp.gmail.com:465");
  if (url?.password) fail("PAPERMAIL_SMTP_URL", "with OAuth2 the URL carries no password (the access token replaces it)");
  if (command) return { command };
  if (!v.oauth2ClientId) return fail("PAPERMAIL_SMTP_OAUTH2_CLIENT_ID", "must be set with PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN");
  if (!v.oauth2RefreshToken) return fail("PAPERMAIL_SMTP_OAUTH2_REFRESH_TOKEN", "must be set with PAPERMAIL_SMTP_OAUTH2_CLIENT_ID");
  return { clientId: v.oauth2ClientId, clientSecret: v.oauth2ClientSecret, refreshToken: v.oauth2RefreshToken, tokenUrl: v.oauth2TokenUrl, scope: v.oauth2Scope };
}

/**
 * PAPERMAIL_* variables papermail does not know, each with the closest known name:
 * a typo would otherwise be ignored without a word.
 */
function unknownVariables(names: readonly string[]): string[] {
  const known = SETTINGS.map((s) => s.name as string);
  const extra = ["PAPERMAIL_DEBUG"];
  const warnings: string[] = [];
  for (const name of names) {
    if (known.includes(name) || extra.includes(name)) continue;
    const closest = known.reduce((best, k) => (editDistance(name, k) < editDistance(name, best) ? k : best));
    warnings.push(`${name} is not a papermail setting and is ignored (did you mean ${closest}?)`);
  }
  return warnings;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), for
 * suggesting the setting someone meant: PAPERMAIL_PROT is one swap from
 * PAPERMAIL_PORT, where plain Levenshtein finds PAPERMAIL_FROM just as close.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function readDotEnv(cwd: string): Record<string, string> {
  const file = resolve(cwd, ".env");
  if (!existsSync(file)) return {};
  try {
    return parseEnv(readFileSync(file, "utf8")) as Record<string, string>;
  } catch (err) {
    throw new PapermailError("CONFIG", `${file}: cannot be read as a .env file`, { file }, { cause: err });
  }
}
