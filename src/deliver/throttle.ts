import { setTimeout as sleep } from "node:timers/promises";

export interface ThrottleOptions {
  /** The pause after the first throttling answer; it doubles with each one in a row. */
  firstPauseMs: number;
  maxPauseMs: number;
  /** Throttling answers in a row after which the run stops (everyone stays queued). */
  limit: number;
  /** The gap between messages after the first throttling answer; it halves the rate with each further one. */
  firstGapMs: number;
}

const DEFAULTS: ThrottleOptions = { firstPauseMs: 1000, maxPauseMs: 60_000, limit: 10, firstGapMs: 100 };
/** Each accepted message shortens the gap by this factor: the rate ramps back up. */
const RAMP_UP = 0.9;

/**
 * One brake for the whole run: a throttling answer (421, 451, 454) pauses every
 * connection, longer each time in a row, and then spaces messages out, halving the
 * rate with each further answer and ramping back up as messages are accepted
 * (additive increase would take too long at a few hundred messages a second).
 */
export function createThrottle(options: Partial<ThrottleOptions> = {}) {
  const o = { ...DEFAULTS, ...options };
  let inARow = 0;
  let resumeAt = 0;
  let gapMs = 0;
  let nextAt = 0;
  return {
    /** True while the run must wait before sending. */
    paused(): boolean {
      return resumeAt > Date.now() || gapMs > 0;
    },
    /** Waits until the run may send again, and takes this message's place in the paced line. */
    async ready(signal?: AbortSignal): Promise<void> {
      for (let wait = resumeAt - Date.now(); wait > 0 && !signal?.aborted; wait = resumeAt - Date.now()) {
        await sleep(Math.min(wait, 1000), undefined, { signal }).catch(() => undefined);
      }
      if (gapMs <= 0) return;
      const slot = Math.max(Date.now(), nextAt);
      nextAt = slot + gapMs;
      if (slot > Date.now()) await sleep(slot - Date.now(), undefined, { signal }).catch(() => undefined);
    },
    /** Records a throttling answer; false once the server has throttled `limit` times in a row. */
    throttled(): boolean {
      inARow++;
      resumeAt = Math.max(resumeAt, Date.now() + Math.min(o.maxPauseMs, o.firstPauseMs * 2 ** (inARow - 1)));
      gapMs = Math.min(o.maxPauseMs, Math.max(o.firstGapMs, gapMs * 2));
      return inARow < o.limit;
    },
    succeeded(): void {
      inARow = 0;
      gapMs = gapMs * RAMP_UP < 1 ? 0 : gapMs * RAMP_UP;
    },
    /** The current gap between messages (0 when not pacing), for reports. */
    get gapMs(): number {
      return gapMs;
    },
  };
}
