import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Lowers the scheduling priority of the calling thread (Linux: a worker thread is a
 * thread of its own, with its own nice value): when the machine's cores are all busy,
 * the thread that answers the site runs first and background work waits. Elsewhere,
 * or without the right to, it does nothing.
 */
export function yieldToTheSite(nice = 10): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed: the thread keeps its priority.
  }
}
