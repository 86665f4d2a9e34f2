import type { CommandContext } from "../context.js";

export type { CommandContext } from "../context.js";
export { createContext } from "../context.js";
export { displayPath } from "../util/paths.js";

/**
 * Prints one JSON document, the whole of a command's `--json` output. C1 controls
 * and line separators are written as \u escapes: the same data, nothing a terminal acts on.
 */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** Exit codes other people script against. */
export const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;
