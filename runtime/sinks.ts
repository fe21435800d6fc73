/**
 * Sinks (inside the isolate): `proxySinks`, Temporal's way for workflow code to hand data to the
 * host without a command. A call is buffered with its arguments as a JSON copy and returned in
 * the activation's completion; the worker then calls the sink function it was given (once, and
 * not during replay unless the sink asks to be). The isolate never calls the host.
 */
import { Proxy, record } from './primordials';
import { getState } from './internals';
import { checkPayloads } from './workflow';

/** A sink's functions: each is called on the host with the workflow's info and these arguments. */
export type Sink = Record<string, (...args: any[]) => void>;
/** Sinks by interface name. */
export type Sinks = Record<string, Sink>;

/** `sinks.iface.fn(...args)` buffers a sink call; it returns nothing and never waits. */
export function proxySinks<T extends Sinks>(): T {
  const ifaces: ProxyHandler<T> = record({
    get(_: unknown, ifaceName: string | symbol) {
      if (typeof ifaceName !== 'string') return undefined;
      const fns: ProxyHandler<Sink> = record({
        get(__: unknown, fnName: string | symbol) {
          if (typeof fnName !== 'string') return undefined;
          return (...args: unknown[]): void => {
            const state = getState('a sink');
            state.sinkCall(ifaceName, fnName, checkPayloads(args, `sink ${ifaceName}.${fnName}`));
          };
        },
      });
      return new Proxy({} as Sink, fns);
    },
  });
  return new Proxy({} as T, ifaces);
}
