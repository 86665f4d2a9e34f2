import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Tests that need a Debian package run where it is installed (and always in CI, which
 * installs them: .ci/run); elsewhere they skip with one line naming what to install.
 */
const CHECKS = {
  chromium: () => existsSync(process.env.PAPERMAIL_CHROMIUM ?? "/usr/bin/chromium"),
  "dovecot-imapd": () => existsSync("/usr/sbin/dovecot"),
  "python3-dkim": () => succeeds("/usr/bin/python3", ["-c", "import dkim"]),
  openssl: () => succeeds("openssl", ["version"]),
} as const;

export type SystemPackage = keyof typeof CHECKS;

/** True when the tests needing `name` can run; says once why they skip when they cannot. */
export function hasPackage(name: SystemPackage): boolean {
  if (process.env.CI || CHECKS[name]()) return true;
  process.stderr.write(`skipped: tests that need the Debian package ${name} (sudo apt-get install ${name})\n`);
  return false;
}

function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
