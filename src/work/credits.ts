/**
 * Backpressure between two threads: a count of batches the consumer will still accept,
 * in shared memory. A producer that runs ahead of its consumer waits (Atomics.wait, in
 * a worker thread only) instead of queueing its output in the consumer's memory.
 */
export function createCredits(count: number): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(4);
  new Int32Array(shared)[0] = count;
  return shared;
}

/** Takes one credit, waiting for the consumer to give one back if none is left. */
export function takeCredit(shared: SharedArrayBuffer): void {
  const cell = new Int32Array(shared);
  for (;;) {
    const left = Atomics.load(cell, 0);
    if (left > 0) {
      if (Atomics.compareExchange(cell, 0, left, left - 1) === left) return;
      continue;
    }
    // Woken by giveCredit; the timeout only re-reads the count (the thread is terminated if its consumer fails).
    Atomics.wait(cell, 0, left, 1000);
  }
}

/** Gives a credit back once a batch is done with. */
export function giveCredit(shared: SharedArrayBuffer): void {
  const cell = new Int32Array(shared);
  Atomics.add(cell, 0, 1);
  Atomics.notify(cell, 0);
}

/** Lets the producer run on without waiting: its consumer is gone. */
export function unlimited(shared: SharedArrayBuffer): void {
  const cell = new Int32Array(shared);
  Atomics.store(cell, 0, 1 << 30);
  Atomics.notify(cell, 0);
}
