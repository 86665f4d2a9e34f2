// A real IMAP server for tests and benchmarks: Debian's Dovecot on 127.0.0.1, run as our
// own child process with a config file written here, one mailbox (`bounces`), STARTTLS
// required with a certificate from a private CA made with openssl.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";

export const DOVECOT = "/usr/sbin/dovecot";

/** A private CA and a server certificate it signed for 127.0.0.1 and localhost, in `dir`. */
export function makeCertificates(dir) {
  mkdirSync(dir, { recursive: true });
  const run = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=papermail test CA");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
  return { caFile: join(dir, "ca.pem"), key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.pem")) };
}

/**
 * Starts Dovecot in `dir` (which must be empty or new). Dovecot takes its port from its
 * config file, so a port is chosen, tried, and another chosen if it was taken meanwhile.
 */
export async function startDovecot(dir) {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const certs = makeCertificates(join(dir, "certs"));
  const root = process.getuid?.() === 0;
  // As root, Dovecot drops to its own users and mail is kept as nobody; otherwise everything runs as us.
  const mailUid = root ? 65534 : process.getuid();
  const mailGid = root ? 65534 : process.getgid();
  const home = join(dir, "home", "bounces");
  const maildir = join(home, "Maildir");
  for (const d of ["new", "cur", "tmp"]) mkdirSync(join(maildir, d), { recursive: true });
  for (const d of [join(dir, "home"), home, maildir, ...["new", "cur", "tmp"].map((x) => join(maildir, x))]) chownSync(d, mailUid, mailGid);
  writeFileSync(join(dir, "server.pem"), certs.cert);
  writeFileSync(join(dir, "server.key"), certs.key);
  writeFileSync(join(dir, "passwd"), "bounces:{PLAIN}secret\n");
  const user = userInfo().username;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await portOfAClosedListener();
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
    const child = spawn(DOVECOT, ["-F", "-c", join(dir, "dovecot.conf")], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", () => resolve(true)));
    // Ready when it accepts connections; a port someone else took makes it exit at once.
    for (let i = 0; i < 200; i++) {
      if (await Promise.race([canConnect(port), exited.then(() => "exited")]) === true) {
        let n = 0;
        return {
          url: `imap://bounces:secret@127.0.0.1:${port}/INBOX`,
          caFile: certs.caFile,
          /** Delivers a message into the mailbox, as the MTA would. */
          deliver(raw) {
            const file = join(maildir, "new", `${Date.now()}.${process.pid}_${++n}.papermail-test`);
            writeFileSync(file, raw);
            chownSync(file, mailUid, mailGid);
          },
          /** Files in the maildir's cur/ (read) and new/ (not yet seen by any client). */
          files: () => ({ cur: readdirSync(join(maildir, "cur")), new: readdirSync(join(maildir, "new")) }),
          stop: () => child.kill("SIGTERM"),
        };
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGTERM");
  }
  throw new Error(`Dovecot did not start (see ${join(dir, "dovecot.log")})`);
}

/** True when Debian's Dovecot is installed. */
export function hasDovecot() {
  return existsSync(DOVECOT);
}

/** A port the system just gave a listener of ours, closed again for Dovecot to take (checked by startDovecot). */
function portOfAClosedListener() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
  });
}
