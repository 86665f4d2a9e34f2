import { afterAll, onTestFinished } from "vitest";

/**
 * Runs `fn` when the current test ends, the last registered first (servers close
 * before their folder goes); called outside a test, when the file's tests end.
 * Helpers register their cleanup here when they are called, never on import.
 */
export function defer(fn: () => unknown): void {
  const run = async () => {
    await fn();
  };
  try {
    onTestFinished(run);
  } catch {
    afterAll(run);
  }
}
