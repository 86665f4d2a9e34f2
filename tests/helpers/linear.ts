/**
 * Linear-time checks without wall-clock limits: a function's time on an input four
 * times larger is compared with its time on the smaller one (linear: about 4x,
 * quadratic: about 16x), each the fastest of a few runs, so that a busy machine slows
 * both sides alike.
 */
export function fastestMs(fn: () => unknown, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** How much longer `make(4n)` takes than `make(n)`, plus 1 ms on each side so that tiny times do not make noise. */
export function growth<T>(make: (n: number) => T, run: (input: T) => unknown, n: number): number {
  const small = make(n);
  const large = make(4 * n);
  run(small); // warm up the code paths
  return (fastestMs(() => run(large)) + 1) / (fastestMs(() => run(small)) + 1);
}
