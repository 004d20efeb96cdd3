// Debouncing and "only the latest answer counts", for requests made while the user types.

/** fn called once, `ms` after the last call; .cancel() drops a pending call. */
export function debounce(fn, ms, timers = globalThis) {
  let handle = null;
  const wrapped = (...args) => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = timers.setTimeout(() => {
      handle = null;
      fn(...args);
    }, ms);
  };
  wrapped.cancel = () => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
  };
  wrapped.pending = () => handle !== null;
  return wrapped;
}

/**
 * Runs async work so that only the latest call's result is delivered: each new call aborts the
 * previous one (its AbortSignal fires) and a late answer of an older call is dropped.
 */
export function latestOnly(work) {
  let current = null;
  return async (...args) => {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    try {
      const result = await work(controller.signal, ...args);
      return controller === current && !controller.signal.aborted
        ? { ok: true, result }
        : { ok: false, stale: true };
    } catch (error) {
      if (controller.signal.aborted) return { ok: false, stale: true };
      return { ok: false, error };
    }
  };
}

/** A small least-recently-used cache. */
export class LruCache {
  constructor(limit = 200) {
    this.limit = limit;
    this.items = new Map();
  }
  get(key) {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key);
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }
  set(key, value) {
    this.items.delete(key);
    this.items.set(key, value);
    while (this.items.size > this.limit) this.items.delete(this.items.keys().next().value);
  }
}
