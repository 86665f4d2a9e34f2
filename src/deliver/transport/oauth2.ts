import { execFile } from "node:child_process";
import type { SMTPConnectionAuth } from "nodemailer/lib/smtp-connection";
import { describeError } from "../../errors.js";

/** Where access tokens for XOAUTH2 come from: a command that prints one, or a refresh token. */
export type OAuth2Settings =
  | { command: string }
  | { clientId: string; clientSecret?: string; refreshToken: string; tokenUrl: string; scope?: string };

/** Access tokens for XOAUTH2 logins, cached until shortly before they expire. */
export interface TokenSource {
  /** The object nodemailer's login asks for tokens (`getToken`) and builds the XOAUTH2 string with. */
  forUser(user: string): XOAuth2;
}

type XOAuth2 = NonNullable<SMTPConnectionAuth["oauth2"]>;

/** A command's token is kept this long: most providers' tokens last an hour. */
const COMMAND_TOKEN_MS = 5 * 60_000;
/** A token is renewed this long before it expires. */
const EARLY_MS = 60_000;
const DEADLINE_MS = 30_000;

/** Makes the token source of the OAuth2 settings; tokens are fetched when a session logs in. */
export function createTokenSource(settings: OAuth2Settings): TokenSource {
  let cached: { token: string; until: number } | undefined;
  let refreshToken = "refreshToken" in settings ? settings.refreshToken : "";

  let inFlight: Promise<string> | undefined;

  /** One request at a time: sessions that open together share its answer. */
  function fresh(): Promise<string> {
    inFlight ??= obtain().finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function obtain(): Promise<string> {
    if ("command" in settings) {
      const token = await runTokenCommand(settings.command);
      cached = { token, until: Date.now() + COMMAND_TOKEN_MS };
      return token;
    }
    const answer = await requestToken(settings, refreshToken);
    // Microsoft's endpoint hands out a new refresh token with each answer: the newest is used from then on.
    if (answer.refreshToken) refreshToken = answer.refreshToken;
    cached = { token: answer.accessToken, until: Date.now() + Math.max(0, answer.expiresInS * 1000 - EARLY_MS) };
    return answer.accessToken;
  }

  return {
    forUser(user) {
      const oauth2 = {
        getToken(renew: boolean, callback: (err: Error | null, token?: string) => void) {
          if (!renew && cached && cached.until > Date.now()) return callback(null, cached.token);
          fresh().then(
            (token) => callback(null, token),
            (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
          );
        },
        buildXOAuth2Token(accessToken: string) {
          return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`, "utf8").toString("base64");
        },
      };
      return oauth2 as unknown as XOAuth2;
    },
  };
}

/** Runs PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND in a shell; its first line of output is the token. */
function runTokenCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("/bin/sh", ["-c", command], { timeout: DEADLINE_MS, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const token = stdout.split(/\r?\n/)[0]?.trim() ?? "";
      if (err) {
        const said = stderr.trim().split("\n")[0] ?? "";
        return reject(new Error(`PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND failed (${err.killed ? `no answer within ${DEADLINE_MS / 1000} s` : `exit ${err.code}`})${said ? `: ${said}` : ""}`));
      }
      if (!token || /\s/.test(token)) return reject(new Error("PAPERMAIL_SMTP_OAUTH2_TOKEN_COMMAND printed no access token on its first line"));
      resolve(token);
    });
  });
}

/** Exchanges the refresh token for an access token (RFC 6749 6), under a deadline of our own. */
async function requestToken(
  settings: Extract<OAuth2Settings, { refreshToken: string }>,
  refreshToken: string,
): Promise<{ accessToken: string; expiresInS: number; refreshToken?: string }> {
  const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: settings.clientId });
  if (settings.clientSecret) body.set("client_secret", settings.clientSecret);
  if (settings.scope) body.set("scope", settings.scope);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), DEADLINE_MS);
  try {
    const response = await fetch(settings.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body,
      signal: abort.signal,
      redirect: "error",
    });
    const text = (await response.text()).slice(0, 64 * 1024);
    let answer: Record<string, unknown> = {};
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // described below
    }
    if (!response.ok || typeof answer.access_token !== "string") {
      const why = typeof answer.error === "string" ? `${answer.error}${typeof answer.error_description === "string" ? `: ${answer.error_description}` : ""}` : `HTTP ${response.status}`;
      throw new Error(`the token endpoint ${settings.tokenUrl} gave no access token (${why}): check PAPERMAIL_SMTP_OAUTH2_CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN`);
    }
    return {
      accessToken: answer.access_token,
      expiresInS: typeof answer.expires_in === "number" ? answer.expires_in : Number(answer.expires_in) || 3600,
      refreshToken: typeof answer.refresh_token === "string" ? answer.refresh_token : undefined,
    };
  } catch (err) {
    if (abort.signal.aborted) throw new Error(`the token endpoint ${settings.tokenUrl} did not answer within ${DEADLINE_MS / 1000} s`);
    throw err instanceof Error && err.message.startsWith("the token endpoint") ? err : new Error(`cannot reach the token endpoint ${settings.tokenUrl}: ${describeError((err as Error).cause ?? err)}`);
  } finally {
    clearTimeout(timer);
  }
}
