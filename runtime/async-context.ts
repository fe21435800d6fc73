/**
 * The async context of workflow code (inside the isolate): one slot, the current
 * CancellationScope, carried across `await` and `.then` the way Temporal carries it with Node's
 * AsyncLocalStorage. isolated-vm gives the isolate no async hooks, so deja carries it itself:
 *
 * - The bundler lowers every async function of the bundle to a generator driven by esbuild's
 *   `__async` helper, and replaces that helper with a call to `runAsync` below (see
 *   lib/bundler/bundle.ts). So every `await` in workflow code is a step of `runAsync`, which
 *   captures the context when the function suspends and restores it when it resumes.
 * - globals.ts replaces `Promise.prototype.then` with `contextThen`, so a callback given to
 *   `.then` (and to `.catch` and `.finally`, which call `then`) runs in the context that was current
 *   when it was registered, as with AsyncLocalStorage.
 *
 * `runAsync` drives the generator with the intrinsics captured in primordials.ts, never with the
 * global `Promise` or `then`: a workflow that replaces them must not break its own awaits, as it
 * could not with native async functions. The runtime's own promise code never goes through
 * `contextThen`: it uses the captured `then` (primordials.ts), and runs in no context.
 *
 * A second slot, the running update (currentUpdateInfo), travels with the first, the same way.
 *
 * Invariant: every change of the slot is undone before the change's caller returns (`finally`).
 * So whenever the microtask queue runs (after each call into the isolate returns), the slot is
 * `undefined`, the root scope, and a callback registered in the root scope needs no wrapping.
 */
import { GeneratorPrototypeNext, GeneratorPrototypeThrow, Promise, PromisePrototypeThen, PromiseResolve, ReflectApply, list } from './primordials';

let current: unknown;
/**
 * A second slot, carried the same way: the update whose handler is running (currentUpdateInfo),
 * `undefined` outside update handlers. Changed only by `runInUpdate`.
 */
let currentUpdate: unknown;

/** The current context; `undefined` is the root. */
export function currentContext(): unknown {
  return current;
}

/** Calls `fn` with `context` current, and restores the previous context after, even when it throws. */
export function runInContext<R>(context: unknown, fn: () => R): R {
  'use strict';
  const previous = current;
  current = context;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** The current update slot; `undefined` outside update handlers. */
export function currentUpdateContext(): unknown {
  return currentUpdate;
}

/** Calls `fn` with `update` as the current update, restoring the previous one after. */
export function runInUpdate<R>(update: unknown, fn: () => R): R {
  'use strict';
  const previous = currentUpdate;
  currentUpdate = update;
  try {
    return fn();
  } finally {
    currentUpdate = previous;
  }
}

type Callback = (value: unknown) => unknown;

/** `callback`, run in `context` (and `update`) whenever it is called. */
function bindContext(callback: Callback, context: unknown, update: unknown): Callback {
  'use strict';
  return (value: unknown): unknown => {
    'use strict';
    const previous = current;
    const previousUpdate = currentUpdate;
    current = context;
    currentUpdate = update;
    try {
      return callback(value);
    } finally {
      current = previous;
      currentUpdate = previousUpdate;
    }
  };
}

/**
 * `promise.then(onFulfilled, onRejected)` with the captured `then`, each callback run in the
 * context current now. Callbacks registered in the root context are passed as they are (see the
 * invariant above).
 */
export function thenInContext(promise: Promise<unknown>, onFulfilled: unknown, onRejected: unknown): Promise<unknown> {
  'use strict';
  const context = current;
  const update = currentUpdate;
  if (context !== undefined || update !== undefined) {
    if (typeof onFulfilled === 'function') onFulfilled = bindContext(onFulfilled as Callback, context, update);
    if (typeof onRejected === 'function') onRejected = bindContext(onRejected as Callback, context, update);
  }
  return PromisePrototypeThen(promise, onFulfilled as Callback | undefined, onRejected as Callback | undefined);
}

/** What globals.ts installs as `Promise.prototype.then`. */
export function contextThen(this: Promise<unknown>, onFulfilled?: unknown, onRejected?: unknown): Promise<unknown> {
  'use strict';
  return thenInContext(this, onFulfilled, onRejected);
}

/**
 * Runs a lowered async function: `body` is its generator function, `self` and `args` its `this`
 * and `arguments` (null when the body does not use them). Each `yield` is an `await`: the value is
 * resolved as `await` resolves it, and the generator resumes, in the context it suspended in, with
 * the result or the error. Same microtask turns as a native async function.
 */
export function runAsync(self: unknown, args: ArrayLike<unknown> | null, body: (...args: unknown[]) => Generator<unknown, unknown, unknown>): Promise<unknown> {
  'use strict';
  return new Promise((resolve, reject) => {
    'use strict';
    const generator = ReflectApply(body, self, args === null ? list() : args) as Generator<unknown, unknown, unknown>;
    const step = (resume: typeof GeneratorPrototypeNext, value: unknown): void => {
      'use strict';
      let result: IteratorResult<unknown>;
      try {
        result = resume(generator, value);
      } catch (error) {
        reject(error);
        return;
      }
      if (result.done) {
        resolve(result.value);
        return;
      }
      let awaited: Promise<unknown>;
      try {
        awaited = PromiseResolve(result.value);
      } catch (error) {
        // As `await` does: a value whose `constructor` getter throws throws at the await.
        step(GeneratorPrototypeThrow, error);
        return;
      }
      thenInContext(awaited, onFulfilled, onRejected);
    };
    const onFulfilled = (value: unknown): void => step(GeneratorPrototypeNext, value);
    const onRejected = (error: unknown): void => step(GeneratorPrototypeThrow, error);
    step(GeneratorPrototypeNext, undefined);
  });
}
