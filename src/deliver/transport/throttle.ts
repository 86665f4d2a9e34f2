import { setTimeout as sleep } from "node:timers/promises";

export interface ThrottleOptions {
  /** The pause after a throttling event; it doubles with each event in a row. */
  firstPauseMs: number;
  maxPauseMs: number;
  /** Throttling events in a row after which the run stops (everyone stays queued). */
  limit: number;
  /** The gap between messages after the first throttling event; it doubles with each further one, up to maxGapMs. */
  firstGapMs: number;
  maxGapMs: number;
  /** Once the relay accepts again, the gap halves with every this many milliseconds. */
  recoveryHalfLifeMs: number;
}

// Spacing beyond a second adds nothing the pause does not do; the pause probes the relay again every 10 s at most.
const DEFAULTS: ThrottleOptions = { firstPauseMs: 1000, maxPauseMs: 10_000, limit: 10, firstGapMs: 100, maxGapMs: 1000, recoveryHalfLifeMs: 500 };

/**
 * One brake for the whole run. A throttling answer (421, 451, 454) is an event: it
 * pauses every connection, then spaces messages out. Answers to messages that were
 * already on their way when the event began are the same event, however many
 * connections hear them: a storm heard by 16 connections counts once, not 16 times.
 * Each event in a row (without an accepted message between) doubles the pause and the
 * gap. Recovery goes by time, not by messages: once messages are accepted, the gap
 * drops to the first event's spacing and then halves every `recoveryHalfLifeMs`: back to
 * full speed in seconds (a per-message ramp would need as many messages as the gap has seconds).
 */
export function createThrottle(options: Partial<ThrottleOptions> = {}) {
  const o = { ...DEFAULTS, ...options };
  let inARow = 0;
  let eventAt = -Infinity;
  let resumeAt = 0;
  let gapMs = 0;
  let gapSetAt = 0;
  let nextAt = 0;
  /** The gap now, decayed since it was set while the relay accepts. */
  const currentGap = (now: number): number => {
    if (gapMs === 0 || inARow > 0) return gapMs;
    const g = gapMs * 2 ** (-(now - gapSetAt) / o.recoveryHalfLifeMs);
    if (g < 1) gapMs = 0;
    return g < 1 ? 0 : g;
  };
  return {
    /** True while the run must wait before sending. */
    paused(): boolean {
      const now = Date.now();
      return resumeAt > now || currentGap(now) > 0;
    },
    /** Waits until the run may send again, and takes this message's place in the paced line. */
    async ready(signal?: AbortSignal): Promise<void> {
      // A new event while this message waited for its slot pauses it too: it would only probe the storm again.
      while (!signal?.aborted) {
        for (let wait = resumeAt - Date.now(); wait > 0 && !signal?.aborted; wait = resumeAt - Date.now()) {
          await sleep(Math.min(wait, 1000), undefined, { signal }).catch(() => undefined);
        }
        const now = Date.now();
        const gap = currentGap(now);
        if (gap <= 0) return;
        const slot = Math.max(now, Math.min(nextAt, now + gap));
        nextAt = slot + gap;
        if (slot > now) await sleep(slot - now, undefined, { signal }).catch(() => undefined);
        if (resumeAt <= Date.now()) return;
      }
    },
    /**
     * Records a throttling answer to a message sent at `sentAt`; false once the relay
     * has throttled `limit` events in a row.
     */
    throttled(sentAt: number = Date.now()): boolean {
      const now = Date.now();
      // Sent before the current event began: the same storm, already accounted for.
      if (sentAt <= eventAt) return inARow < o.limit;
      inARow++;
      eventAt = now;
      resumeAt = Math.max(resumeAt, now + Math.min(o.maxPauseMs, o.firstPauseMs * 2 ** (inARow - 1)));
      gapMs = Math.min(o.maxGapMs, Math.max(o.firstGapMs, currentGap(now) * 2));
      gapSetAt = resumeAt;
      return inARow < o.limit;
    },
    succeeded(): void {
      if (inARow === 0) return;
      // The relay accepts again: back to the first event's spacing, shrinking from now.
      inARow = 0;
      gapMs = Math.min(gapMs, o.firstGapMs);
      gapSetAt = Date.now();
    },
    /** The current gap between messages (0 when not pacing), for reports. */
    get gapMs(): number {
      return currentGap(Date.now());
    },
  };
}
