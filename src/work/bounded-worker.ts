import { Worker, type ResourceLimits } from "node:worker_threads";

/** A task took longer than its bound: the worker doing it was stopped. */
export class TaskTooLong extends Error {
  constructor(readonly ms: number) {
    super(`took longer than ${Math.round(ms / 1000)} s`);
  }
}

/** The worker doing a task stopped (out of memory, crashed) before answering. */
export class TaskFailed extends Error {}

/**
 * Runs tasks on text that strangers control in a worker thread, one at a time, each
 * with a deadline we own: a task still running at its deadline has its worker
 * terminated (the next task gets a fresh one), and the caller gets TaskTooLong. Work
 * on hostile input therefore never runs on the caller's event loop, never for longer
 * than the bound, and never with more memory than `resourceLimits`.
 */
export function createBoundedWorker<In, Out>(script: string, options: { timeoutMs: number; resourceLimits?: ResourceLimits }) {
  let worker: Worker | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let next = 0;

  function spawn(): Worker {
    const w = new Worker(script, { resourceLimits: options.resourceLimits });
    // An idle worker keeps no process alive; a task in progress does, through its timer.
    w.unref();
    w.on("error", () => undefined);
    w.on("exit", () => {
      if (worker === w) worker = undefined;
    });
    return w;
  }

  function runOne(input: In, transfer: ArrayBuffer[]): Promise<Out> {
    const w = (worker ??= spawn());
    const id = ++next;
    return new Promise<Out>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        w.off("message", onMessage);
        w.off("exit", onExit);
      };
      const onMessage = (m: { id: number; output?: Out; error?: string }) => {
        if (m.id !== id) return;
        done();
        if (m.error !== undefined) reject(new TaskFailed(m.error));
        else resolve(m.output as Out);
      };
      const onExit = (code: number) => {
        done();
        reject(new TaskFailed(`the worker stopped (exit code ${code})`));
      };
      const timer = setTimeout(() => {
        done();
        if (worker === w) worker = undefined;
        void w.terminate();
        reject(new TaskTooLong(options.timeoutMs));
      }, options.timeoutMs);
      w.on("message", onMessage);
      w.once("exit", onExit);
      w.postMessage({ id, input }, transfer);
    });
  }

  return {
    /** Runs one task after those before it; `transfer` hands buffers over without a copy. */
    run(input: In, transfer: ArrayBuffer[] = []): Promise<Out> {
      const result = queue.then(() => runOne(input, transfer));
      queue = result.catch(() => undefined);
      return result;
    },
    /** Stops the worker, if one runs. */
    async close(): Promise<void> {
      const w = worker;
      worker = undefined;
      await w?.terminate();
    },
  };
}

/** The worker side: answers each task with `fn`'s result, or its error's message. */
export async function serveTasks<In, Out>(fn: (input: In) => Out): Promise<void> {
  const { parentPort } = await import("node:worker_threads");
  parentPort!.on("message", ({ id, input }: { id: number; input: In }) => {
    try {
      parentPort!.postMessage({ id, output: fn(input) });
    } catch (err) {
      parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
