/**
 * `Trigger` (inside the isolate): a promise-like that workflow code itself resolves or rejects,
 * as Temporal's. Made in a cancellable scope, it rejects with the scope's CancelledFailure when the
 * scope is cancelled first, so `await trigger` inside `CancellationScope.cancellable` ends with the
 * scope. Deterministic: it settles only through workflow code and the scope, which replay repeats.
 */
import { Promise, PromisePrototypeThen } from './primordials';
import { CancellationScope } from './cancellation-scope';

const noop = (): void => undefined;

export class Trigger<T> implements PromiseLike<T> {
  readonly resolve!: (value: T | PromiseLike<T>) => void;
  readonly reject!: (reason?: any) => void;
  protected readonly promise: Promise<T>;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      const scope = CancellationScope.current();
      if (scope.cancellable) PromisePrototypeThen(scope.cancelRequested, undefined, reject);
      (this as { resolve: typeof resolve }).resolve = resolve;
      (this as { reject: typeof reject }).reject = reject;
    });
    // A trigger nobody awaits must not become an unhandled rejection.
    PromisePrototypeThen(this.promise, undefined, noop);
  }

  then<TResult1 = T, TResult2 = never>(
    onfulfilled?: ((value: T) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: any) => TResult2 | PromiseLike<TResult2>) | null,
  ): PromiseLike<TResult1 | TResult2> {
    return PromisePrototypeThen(this.promise, (onfulfilled ?? undefined) as ((v: unknown) => unknown) | undefined, (onrejected ?? undefined) as ((e: unknown) => unknown) | undefined) as PromiseLike<TResult1 | TResult2>;
  }
}
