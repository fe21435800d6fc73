/**
 * Cancellation scopes (inside the isolate), as in Temporal's TypeScript SDK. Scopes form a tree
 * whose root is the workflow's (cancelled by the `cancelWorkflow` job). Timers, conditions,
 * activities, child workflows and external signals and cancels link to the scope current when
 * they are created; cancelling a scope cancels them, and the scopes below it.
 *
 * - A non-cancellable scope can be asked to cancel (its `cancelRequested` rejects) but is never
 *   considered cancelled: what runs in it is never cancelled, and the scopes created in it are not
 *   linked to it, so its subtree is shielded from its parent's cancellation (Temporal's behaviour
 *   under its lang flag 1, `NonCancellableScopesAreShieldedFromPropagation`; replaying a task
 *   without it, a non-cancellable scope passes its cancellation request on, see flags.ts).
 * - The current scope follows workflow code across `await` and `.then` (async-context.ts).
 * - Cancellation propagates synchronously, in the order things were linked: `scope.cancel()` has
 *   emitted every command it causes when it returns. Temporal propagates it through promise
 *   reactions; the outcome for workflow code is the same, and the order of the commands is the
 *   order of creation.
 *
 * A scope's own state is kept in a WeakMap of this module, out of workflow code's reach.
 */
import {
  Map,
  MapPrototypeDelete,
  MapPrototypeSet,
  ObjectKeys,
  Promise,
  PromisePrototypeThen,
  TypeError,
  WeakMap,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
  mapForEach,
  record, whenSettled
} from './primordials';
import { currentContext, runInContext } from './async-context';
import { CancelledFailure } from './failure';
import { getState } from './internals';
import { LangFlag } from './flags';
import { optionalDurationToMs, type Duration } from './time';

export interface CancellationScopeOptions {
  /** Milliseconds (or a duration string) after which the scope cancels itself. */
  timeout?: Duration;
  /** False: cancellation from outside never reaches what runs in the scope. Default true. */
  cancellable?: boolean;
  /** The scope this one is linked to. Default: the current scope. */
  parent?: CancellationScope;
}

type Listener = (failure: CancelledFailure) => void;

interface ScopeState {
  requested: boolean;
  failure: CancelledFailure | undefined;
  reject: (failure: CancelledFailure) => void;
  /** What to cancel with this scope, by link id, in the order linked. */
  listeners: Map<number, Listener>;
  nextListener: number;
}

const STATES = new WeakMap<CancellationScope, ScopeState>();
const OPTION_KEYS = ['timeout', 'cancellable', 'parent'];
let makingRoot = false;

function noop(): void {}

function stateOf(scope: unknown, where: string): ScopeState {
  'use strict';
  const state = typeof scope === 'object' && scope !== null ? WeakMapPrototypeGet(STATES, scope as CancellationScope) : undefined;
  if (state === undefined) throw new TypeError(`${where}: expected a CancellationScope`);
  return state;
}

/** Marks `scope` cancelled (once) and cancels everything linked to it, in order. */
function request(scope: CancellationScope, failure: CancelledFailure): void {
  'use strict';
  const state = stateOf(scope, 'cancel');
  if (state.requested) return;
  state.requested = true;
  state.failure = failure;
  state.reject(failure);
  const listeners = state.listeners;
  state.listeners = new Map();
  mapForEach(listeners, (listener) => listener(failure));
}

export class CancellationScope {
  /** Whether cancellation reaches what runs in this scope. */
  readonly cancellable: boolean;
  /** The scope this one is linked to (none for the root). */
  readonly parent?: CancellationScope;
  /** The timeout in ms, when the scope has one. */
  readonly timeout?: number;
  /**
   * Rejects with a CancelledFailure once the scope is asked to cancel (by `cancel()`, or through a
   * cancellable parent). Never an unhandled rejection by itself.
   */
  readonly cancelRequested: Promise<never>;

  constructor(options?: CancellationScopeOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError('CancellationScope: expected an options object');
    }
    const opts: CancellationScopeOptions = options ?? record({});
    const keys = ObjectKeys(opts);
    for (let i = 0; i < keys.length; i++) {
      let known = false;
      for (let j = 0; j < OPTION_KEYS.length && !known; j++) known = OPTION_KEYS[j] === keys[i];
      if (!known) throw new TypeError(`CancellationScope: unknown option "${keys[i]}"; expected one of: timeout, cancellable, parent`);
    }
    const cancellable = opts.cancellable ?? true;
    if (typeof cancellable !== 'boolean') throw new TypeError('CancellationScope: expected cancellable to be a boolean');
    this.cancellable = cancellable;
    const timeout = optionalDurationToMs(opts.timeout, 'CancellationScope timeout');
    if (timeout !== undefined) this.timeout = timeout;
    let reject!: (failure: CancelledFailure) => void;
    this.cancelRequested = new Promise<never>((_, r) => (reject = r));
    PromisePrototypeThen(this.cancelRequested, undefined, noop);
    const state: ScopeState = record({ requested: false, failure: undefined, reject, listeners: new Map<number, Listener>(), nextListener: 0 });
    WeakMapPrototypeSet(STATES, this, state);
    if (makingRoot) return;
    const parent = opts.parent ?? CancellationScope.current();
    const parentState = stateOf(parent, 'CancellationScope parent');
    this.parent = parent;
    // Only a cancellable parent passes its cancellation on (see the module's comment); a
    // non-cancellable one did too before lang flag 1, asked when its cancellation comes.
    if (!parent.cancellable) {
      const reached = (failure: CancelledFailure) => {
        if (!shielded()) request(this, failure);
      };
      if (parentState.requested) reached(parentState.failure!);
      else listen(parentState, reached);
      return;
    }
    if (parentState.requested) request(this, parentState.failure!);
    else link(parent, (failure) => request(this, failure));
  }

  /** Whether the scope was cancelled and is cancellable: what runs in it is cancelled. */
  get consideredCancelled(): boolean {
    return stateOf(this, 'consideredCancelled').requested && this.cancellable;
  }

  /**
   * Runs `fn` in this scope: the timers, activities, child workflows and scopes it creates, before
   * and after its awaits, are linked to this scope. With a timeout, a timer started now cancels the
   * scope when it fires; it is cancelled when `fn` settles first.
   */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    'use strict';
    if (typeof fn !== 'function') throw new TypeError('CancellationScope.run: expected a function');
    return runInContext(this, () => {
      'use strict';
      let timerScope: CancellationScope | undefined;
      if (this.timeout !== undefined) {
        const timeout = this.timeout;
        const scope = new CancellationScope();
        timerScope = scope;
        const fired = runInContext(scope, () => getState('CancellationScope').sleep(timeout, scope));
        PromisePrototypeThen(fired, () => this.cancel(), noop);
      }
      // The timeout's timer is cancelled when fn settles first, under lang flag 1 (before it, the
      // timer was left to fire).
      const done = () => {
        if (timerScope !== undefined && !stateOf(timerScope, 'scope').requested && shielded()) request(timerScope, new CancelledFailure('Cancellation scope cancelled'));
      };
      let result: unknown;
      try {
        result = fn();
      } catch (error) {
        done();
        return new Promise<T>((_, reject) => reject(error));
      }
      return new Promise<T>((resolve, reject) => {
        whenSettled(
          result,
          (value) => {
            done();
            resolve(value as T);
          },
          (error) => {
            done();
            reject(error);
          },
        );
      });
    });
  }

  /** Asks the scope to cancel: it and the scopes and operations linked to it are cancelled. */
  cancel(): void {
    request(this, new CancelledFailure('Cancellation scope cancelled'));
  }

  /** The current scope: the root scope outside any `run`. */
  static current(): CancellationScope {
    const context = currentContext();
    return context === undefined ? getState('CancellationScope.current').rootScope : (context as CancellationScope);
  }

  /** `new CancellationScope({ cancellable: true }).run(fn)`. */
  static cancellable<T>(fn: () => T | Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: true }).run(fn);
  }

  /** `new CancellationScope({ cancellable: false }).run(fn)`: cleanup that must not be cancelled. */
  static nonCancellable<T>(fn: () => T | Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: false }).run(fn);
  }

  /** `new CancellationScope({ cancellable: true, timeout }).run(fn)`. */
  static withTimeout<T>(timeout: Duration, fn: () => T | Promise<T>): Promise<T> {
    return new CancellationScope({ cancellable: true, timeout }).run(fn);
  }
}

/** The workflow's root scope, made once per execution by the WorkflowState. */
export function createRootScope(): CancellationScope {
  makingRoot = true;
  try {
    return new CancellationScope();
  } finally {
    makingRoot = false;
  }
}

/** Cancels the root scope (the `cancelWorkflow` job). */
export function cancelRoot(root: CancellationScope, failure: CancelledFailure): void {
  request(root, failure);
}

/** The failure to reject a new operation with, when `scope` is already cancelled; else undefined. */
export function cancelledFailureOf(scope: CancellationScope): CancelledFailure | undefined {
  const state = stateOf(scope, 'scope');
  return state.requested && scope.cancellable ? state.failure : undefined;
}

/** Lang flag 1 (flags.ts): non-cancellable scopes shield their subtree, timeouts' timers are cancelled. */
function shielded(): boolean {
  return getState('CancellationScope').flags.lang(LangFlag.NonCancellableScopesAreShieldedFromPropagation);
}

/** Adds `listener` to the scope of `state`, cancellable or not. */
function listen(state: ScopeState, listener: Listener): void {
  MapPrototypeSet(state.listeners, state.nextListener++, listener);
}

/**
 * Links an operation to `scope`: `onCancel` runs when the scope is cancelled. Returns the function
 * that unlinks it (call it when the operation settles); a non-cancellable scope links nothing.
 */
export function link(scope: CancellationScope, onCancel: Listener): () => void {
  'use strict';
  if (!scope.cancellable) return noop;
  const state = stateOf(scope, 'scope');
  const id = state.nextListener++;
  const listeners = state.listeners;
  MapPrototypeSet(listeners, id, onCancel);
  return () => void MapPrototypeDelete(listeners, id);
}
