// A Store wrapper for tests (host side): it sees every transaction (with its options) and every
// call a transaction makes, and may throw at any of them, to inject a crash between two steps.
import type { Store, StoreTx, TransactionOptions } from '../../lib/backends/store';

export interface StoreCall {
  /** `tasks.put`, `history.append`, … */
  method: string;
  args: unknown[];
  /** The options of the transaction the call ran in. */
  options: TransactionOptions | undefined;
}

export interface SpyHooks {
  /** Called before each store call inside a transaction; throwing makes that call throw. */
  beforeCall?: (call: StoreCall) => void;
  /** Called when a transaction begins (each run of fn, when the backend retries). */
  onTransaction?: (options: TransactionOptions | undefined) => void;
}

const RESOURCES = ['runs', 'history', 'tasks', 'timers', 'queries'] as const;

/** A store that behaves as `store` does, reporting to (and failing by) `hooks`. */
export function spyStore(store: Store, hooks: SpyHooks): Store {
  const wrapTx = (tx: StoreTx, options: TransactionOptions | undefined): StoreTx => {
    const wrapped: Record<string, unknown> = {};
    for (const resource of RESOURCES) {
      const inner = tx[resource] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      wrapped[resource] = new Proxy(inner, {
        get(target, name) {
          const value = Reflect.get(target, name);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            hooks.beforeCall?.({ method: `${resource}.${String(name)}`, args, options });
            return value.apply(target, args);
          };
        },
      });
    }
    return wrapped as unknown as StoreTx;
  };
  return {
    transaction(fn, options) {
      return store.transaction((tx) => {
        hooks.onTransaction?.(options);
        return fn(wrapTx(tx, options));
      }, options);
    },
    get changes() {
      return store.changes;
    },
    close: () => store.close(),
  };
}
