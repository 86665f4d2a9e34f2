import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SAMPLE_FILES } from "./files.js";
import { project, smtp } from "./project.js";

/** A project whose digest went out through a real SMTP server with VERP; returns each reader's envelope sender. */
export async function sentProject(readers: string[], extra: Record<string, string> = {}) {
  const server = await smtp({ fault: (to) => (to.startsWith("gone") ? "550" : undefined) });
  const p = project(server.url);
  Object.assign(p.env, { PAPERMAIL_BOUNCE_ADDRESS: "bounces@example.org", PAPERMAIL_SECRET: "s".repeat(40), ...extra });
  await p.cli(["subscribers", "import", "-", "--confirmed"], readers.join("\n"));
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  await p.cli(["send-digest"]);
  const verp = new Map(server.received.map((m) => [m.to[0]!, m.from]));
  const status = (email: string) => (p.db().prepare("SELECT status FROM subscribers WHERE email = ?").get(email) as { status: string }).status;
  const events = () => (p.db().prepare("SELECT count(*) AS n FROM bounce_events").get() as { n: number }).n;
  const file = (name: string, text: string) => {
    const path = join(p.cwd, name);
    writeFileSync(path, text);
    return path;
  };
  return { ...p, server, verp, status, events, file };
}
