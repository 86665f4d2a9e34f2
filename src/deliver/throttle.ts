import { setTimeout as sleep } from "node:timers/promises";

export interface ThrottleOptions {
  /** The pause after the first throttling answer; it doubles with each one in a row. */
  firstPauseMs: number;
  maxPauseMs: number;
  /** Throttling answers in a row after which the run stops (everyone stays queued). */
  limit: number;
}

const DEFAULTS: ThrottleOptions = { firstPauseMs: 1000, maxPauseMs: 60_000, limit: 10 };

/**
 * One brake for the whole run: a throttling answer (421, 451, 454) pauses every
 * connection, longer each time in a row, instead of spending recipients' retries.
 */
export function createThrottle(options: Partial<ThrottleOptions> = {}) {
  const o = { ...DEFAULTS, ...options };
  let inARow = 0;
  let resumeAt = 0;
  return {
    /** True while the run must wait before sending. */
    paused(): boolean {
      return resumeAt > Date.now();
    },
    /** Waits until the run may send again. */
    async ready(signal?: AbortSignal): Promise<void> {
      for (let wait = resumeAt - Date.now(); wait > 0 && !signal?.aborted; wait = resumeAt - Date.now()) {
        await sleep(Math.min(wait, 1000), undefined, { signal }).catch(() => undefined);
      }
    },
    /** Records a throttling answer; false once the server has throttled `limit` times in a row. */
    throttled(): boolean {
      inARow++;
      resumeAt = Math.max(resumeAt, Date.now() + Math.min(o.maxPauseMs, o.firstPauseMs * 2 ** (inARow - 1)));
      return inARow < o.limit;
    },
    succeeded(): void {
      inARow = 0;
    },
  };
}
