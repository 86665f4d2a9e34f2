import { connect } from "node:net";
import { fail, pass, warn, type Check } from "./check.js";
import { isPrivateAddress } from "./dns.js";

const PROBE_TIMEOUT_MS = 10_000;

/** The relay's answer to EHLO (the greeting read first), within a deadline we own. */
function ehlo(host: string, port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let text = "";
    let greeted = false;
    const timer = setTimeout(() => finish(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
    const finish = (err?: Error, lines?: string[]) => {
      clearTimeout(timer);
      socket.end("QUIT\r\n");
      socket.destroy();
      if (err) reject(err);
      else resolve(lines!);
    };
    socket.setEncoding("latin1");
    socket.on("error", (err) => finish(err));
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > 64 * 1024) return finish(new Error("the relay's answer is too long"));
      // A reply is complete at a line whose code is followed by a space.
      const lines = text.split("\r\n");
      const last = lines.findIndex((l) => /^\d{3} /.test(l));
      if (last === -1) return;
      const reply = lines.slice(0, last + 1);
      text = lines.slice(last + 1).join("\r\n");
      if (!greeted) {
        if (!reply[last]!.startsWith("220")) return finish(new Error(`greeted with "${reply[last]}"`));
        greeted = true;
        socket.write("EHLO papermail-doctor\r\n");
        return;
      }
      if (!reply[last]!.startsWith("250")) return finish(new Error(`EHLO answered "${reply[last]}"`));
      finish(undefined, reply.map((l) => l.slice(4)));
    });
  });
}

/** TLS on the relay: smtps:// from the first byte, or STARTTLS offered on smtp:// (a relay on this machine may go without). */
export async function checkTls(smtpUrl: string | undefined): Promise<Check> {
  const name = "tls";
  if (!smtpUrl) return warn(name, "no relay: mail is written to the outbox folder (PAPERMAIL_SMTP_URL unset)", "set PAPERMAIL_SMTP_URL to your relay, e.g. smtp://user:pass@smtp.example.org:587");
  const url = new URL(smtpUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol === "smtps:") return pass(name, `${host}: TLS from the first byte (smtps://)`);
  const port = Number(url.port || 25);
  const local = host === "localhost" || isPrivateAddress(host);
  let capabilities: string[];
  try {
    capabilities = await ehlo(host, port);
  } catch (err) {
    return fail(name, `${host}:${port} cannot be asked: ${(err as Error).message}`, "check PAPERMAIL_SMTP_URL (host and port) and that the relay is running");
  }
  if (capabilities.some((c) => /^STARTTLS\b/i.test(c))) return pass(name, `${host}:${port} offers STARTTLS, and papermail uses it`);
  if (local) return warn(name, `${host}:${port} offers no STARTTLS; acceptable for a relay on this machine or a private network only`, null);
  return fail(name, `${host}:${port} offers no STARTTLS: mail and password would cross the network in the clear`, `use the relay's TLS port, e.g. PAPERMAIL_SMTP_URL=smtps://${url.username ? `${url.username}:PASSWORD@` : ""}${host}:465`);
}
