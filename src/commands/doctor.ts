import { isIP } from "node:net";
import { runChecks } from "../doctor/run.js";
import { PapermailError } from "../errors.js";
import { EXIT, printJson, type CommandContext } from "./context.js";

const MARKS = { pass: "pass", warn: "WARN", fail: "FAIL" } as const;

/** `papermail doctor [--ip ADDRESS] [--json]`: exit 0 when nothing fails, 1 otherwise. */
export async function runDoctor(ctx: CommandContext, flags: { json: boolean; ip?: string }): Promise<number> {
  if (flags.ip !== undefined && !isIP(flags.ip)) throw new PapermailError("USAGE", `--ip "${flags.ip}" is not an IPv4 or IPv6 address`);
  const checks = await runChecks(ctx, { ip: flags.ip });
  const failed = checks.filter((c) => c.status === "fail").length;
  if (flags.json) printJson(ctx, { checks });
  else {
    for (const c of checks) {
      ctx.out(`${MARKS[c.status]}  ${c.name.padEnd(15)} ${c.detail}`);
      if (c.fix && c.status !== "pass") ctx.out(`      ${"".padEnd(15)} fix: ${c.fix}`);
    }
    const warned = checks.filter((c) => c.status === "warn").length;
    ctx.out(failed ? `${failed} check${failed === 1 ? "" : "s"} failed, ${warned} warned: mend the fails before sending in bulk.` : `Nothing failed${warned ? ` (${warned} warned)` : ""}.`);
  }
  return failed ? EXIT.rejected : EXIT.ok;
}
