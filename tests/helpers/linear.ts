/**
 * Linear-time checks without wall-clock limits: a function's CPU time on an input four
 * times larger is compared with its CPU time on the smaller one (linear: about 4x,
 * quadratic: about 16x), each the fastest of a few runs. CPU time, not the clock: on a
 * busy machine other processes take turns, but this process's own work stays the same.
 */
export function fastestMs(fn: () => unknown, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    // Garbage left by earlier tests is collected before, not during, the measure (npm test passes --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.cpuUsage();
    fn();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** How much longer `make(4n)` takes than `make(n)`, plus 1 ms on each side so that tiny times do not make noise. */
export function growth<T>(make: (n: number) => T, run: (input: T) => unknown, n: number, runs = 5): number {
  const small = make(n);
  const large = make(4 * n);
  // Warm up the code paths with both sizes: V8 compiles a hot loop again for the larger input,
  // on its own threads, and process.cpuUsage counts those threads too.
  run(small);
  run(large);
  return (fastestMs(() => run(large), runs) + 1) / (fastestMs(() => run(small), runs) + 1);
}
