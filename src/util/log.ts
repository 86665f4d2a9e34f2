import pino from "pino";
import { neutralise } from "./neutralise.js";

/** Where `serve` and the scheduler write what happens: one line per event. */
export type Log = (line: string) => void;

/** The word a log line starts with ("ingest: ...", "alert: ...") names its event. */
function eventOf(line: string): string {
  const m = /^([a-z][a-z -]{0,30}?):\s/.exec(line);
  return m ? m[1]!.replace(/ /g, "-") : "papermail";
}

/** Failures and alerts stand out in either format. */
function levelOf(line: string, event: string): "error" | "warn" | "info" {
  if (/(^|: )failed\b|: error\b|cannot be read/.test(line)) return "error";
  if (event === "alert" || event === "warning" || /\bnot sent\b|\brefused\b/.test(line)) return "warn";
  return "info";
}

/**
 * The log of a long-running process: `text` (the default) writes "TIME line" for
 * people; `json` writes one JSON object per line through pino (time, level, event,
 * msg) for a log pipeline. Values of `secrets` (passwords, tokens from the settings)
 * are replaced before anything is written, in both formats; control characters from
 * outside text never reach the terminal.
 */
export function createLog(format: "text" | "json", secrets: ReadonlyArray<string | undefined>, out: NodeJS.WritableStream = process.stdout): Log {
  const hidden = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4).sort((a, b) => b.length - a.length);
  const redact = (line: string) => hidden.reduce((text, secret) => text.split(secret).join("[redacted]"), line);
  if (format === "text") return (line) => void out.write(`${new Date().toISOString()} ${neutralise(redact(line))}\n`);
  const logger = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, out as pino.DestinationStream);
  return (line) => {
    const msg = neutralise(redact(line));
    const event = eventOf(msg);
    logger[levelOf(msg, event)]({ event }, msg);
  };
}
