import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { freePort } from "./site.js";
import { tempDir } from "./helpers.js";
import { makeCertificates } from "./tls.js";

const running: ChildProcess[] = [];
afterEach(() => {
  while (running.length) running.pop()!.kill("SIGTERM");
});

/**
 * A real IMAP server (Debian's Dovecot) on 127.0.0.1 with one mailbox, `bounces`,
 * STARTTLS required (certificate from the test CA), run as our own child process
 * with a config file written here. Messages are dropped straight into its maildir.
 */
export async function startDovecot() {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const certs = makeCertificates();
  const port = await freePort();
  const root = process.getuid?.() === 0;
  // As root, Dovecot drops to its own users and mail is kept as nobody; otherwise everything runs as us.
  const mailUid = root ? 65534 : process.getuid!();
  const mailGid = root ? 65534 : process.getgid!();
  const home = join(dir, "home", "bounces");
  const maildir = join(home, "Maildir");
  for (const d of ["new", "cur", "tmp"]) mkdirSync(join(maildir, d), { recursive: true });
  for (const d of [join(dir, "home"), home, maildir, ...["new", "cur", "tmp"].map((x) => join(maildir, x))]) chownSync(d, mailUid, mailGid);
  writeFileSync(join(dir, "server.pem"), certs.cert);
  writeFileSync(join(dir, "server.key"), certs.key);
  writeFileSync(join(dir, "passwd"), "bounces:{PLAIN}secret\n");
  const user = userInfo().username;
  const conf = [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    "protocols = imap",
    "listen = 127.0.0.1",
    "ssl = required",
    `ssl_cert = <${dir}/server.pem`,
    `ssl_key = <${dir}/server.key`,
    "disable_plaintext_auth = yes",
    "auth_mechanisms = plain login",
    "first_valid_uid = 1",
    ...(root ? [] : [`default_login_user = ${user}`, `default_internal_user = ${user}`, `default_internal_group = ${user}`]),
    `passdb {\n  driver = passwd-file\n  args = ${dir}/passwd\n}`,
    `userdb {\n  driver = static\n  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u\n}`,
    "mail_location = maildir:~/Maildir",
    `service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
    "service anvil {\n  chroot =\n}",
  ].join("\n");
  writeFileSync(join(dir, "dovecot.conf"), `${conf}\n`);
  const child = spawn("/usr/sbin/dovecot", ["-F", "-c", join(dir, "dovecot.conf")], { stdio: "ignore" });
  running.push(child);
  for (let i = 0; i < 100; i++) {
    if (await canConnect(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let n = 0;
  return {
    url: `imap://bounces:secret@127.0.0.1:${port}/INBOX`,
    caFile: certs.caFile,
    /** Delivers a message into the mailbox, as the MTA would. */
    deliver(raw: string | Buffer) {
      const file = join(maildir, "new", `${Date.now()}.${process.pid}_${++n}.papermail-test`);
      writeFileSync(file, raw);
      chownSync(file, mailUid, mailGid);
    },
    /** Files in the maildir's cur/ (read) and new/ (not yet seen by any client). */
    files: () => ({ cur: readdirSync(join(maildir, "cur")), new: readdirSync(join(maildir, "new")) }),
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
  });
}
