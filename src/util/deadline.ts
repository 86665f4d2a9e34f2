/**
 * A deadline we own: an AbortSignal driven by a timer we clear ourselves.
 * Node 20's AbortSignal.timeout() inside AbortSignal.any() can lose its timer
 * after a garbage collection (nodejs/node#57736), leaving a request waiting forever.
 */
export class DeadlineError extends Error {
  override name = "TimeoutError";
  constructor(readonly ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s`);
  }
}

export async function withDeadline<T>(ms: number, parent: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineError(ms)), ms);
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });
  try {
    return await work(controller.signal);
  } catch (err) {
    // fetch rejects with the signal's reason or with a generic AbortError: name the deadline either way.
    if (controller.signal.reason instanceof DeadlineError) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", onParentAbort);
  }
}
