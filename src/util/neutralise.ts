/**
 * Control characters in a line for a terminal or log, made visible (ESC becomes
 * "\\x1b"): a title from a dump can never move the cursor or recolour the screen.
 */
export function neutralise(line: string): string {
  return line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
