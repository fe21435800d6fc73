/**
 * Sinks in the worker (host side): the functions workflow code calls through `proxySinks`, in
 * Temporal's InjectedSinks shape. An activation returns its sink calls with its completion; the
 * worker calls each once after the activation, and during replay only a sink that asks to be
 * (`callDuringReplay`). A sink that throws or rejects is logged and never fails the task or the
 * worker; a call to an interface or function the worker was not given is logged once.
 */
import type { SinkCall, WorkflowInfo } from '../../runtime/protocol';
import { InvalidArgumentError, describe } from '../errors';

/** One sink function on the host: called with the workflow's info, then the call's arguments. */
export interface InjectedSinkFunction<F extends (...args: any[]) => any = (...args: any[]) => any> {
  fn(info: WorkflowInfo, ...args: Parameters<F>): void | Promise<void>;
  /** Also call it for the activations of a replay (default false: once, live). */
  callDuringReplay?: boolean;
}

/** The worker's `sinks` option: functions by interface name, then function name. */
export type InjectedSinks<T extends Record<string, Record<string, (...args: any[]) => any>> = Record<string, Record<string, (...args: any[]) => any>>> = {
  [I in keyof T]: { [F in keyof T[I]]: InjectedSinkFunction<T[I][F]> };
};

/** Checks the `sinks` option's shape, naming the first part that is wrong. */
export function checkSinks(where: string, sinks: unknown): InjectedSinks {
  const expected = '{ [iface]: { [fn]: { fn(workflowInfo, ...args), callDuringReplay?: boolean } } }';
  if (typeof sinks !== 'object' || sinks === null || Array.isArray(sinks)) throw new InvalidArgumentError(`${where}: sinks must be an object ${expected}, got ${describe(sinks)}`);
  for (const [iface, fns] of Object.entries(sinks)) {
    if (typeof fns !== 'object' || fns === null || Array.isArray(fns)) throw new InvalidArgumentError(`${where}: sinks.${iface} must be an object of sink functions ${expected}, got ${describe(fns)}`);
    for (const [name, sink] of Object.entries(fns as Record<string, unknown>)) {
      const s = sink as Record<string, unknown> | null;
      if (typeof s !== 'object' || s === null || typeof s.fn !== 'function') {
        throw new InvalidArgumentError(`${where}: sinks.${iface}.${name} must be { fn(workflowInfo, ...args), callDuringReplay?: boolean }, got ${describe(sink)}`);
      }
      for (const key of Object.keys(s)) {
        if (key !== 'fn' && key !== 'callDuringReplay') throw new InvalidArgumentError(`${where}: sinks.${iface}.${name}: unknown option "${key}"; expected one of: fn, callDuringReplay`);
      }
      if (s.callDuringReplay !== undefined && typeof s.callDuringReplay !== 'boolean') {
        throw new InvalidArgumentError(`${where}: sinks.${iface}.${name}.callDuringReplay must be a boolean, got ${describe(s.callDuringReplay)}`);
      }
    }
  }
  return sinks as InjectedSinks;
}

/** Calls the sink functions for an activation's sink calls. */
export class SinkDispatcher {
  /** `iface.fn` names already reported as unknown. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly sinks: InjectedSinks,
    private readonly log: (workflowId: string, level: string, message: string) => void,
  ) {}

  dispatch(calls: readonly SinkCall[] | undefined, info: WorkflowInfo): void {
    if (calls === undefined) return;
    for (const call of calls) {
      const iface = Object.hasOwn(this.sinks, call.ifaceName) ? this.sinks[call.ifaceName] : undefined;
      const sink = iface !== undefined && Object.hasOwn(iface, call.fnName) ? iface[call.fnName] : undefined;
      if (sink === undefined) {
        const key = `${call.ifaceName}.${call.fnName}`;
        if (!this.reported.has(key)) {
          this.reported.add(key);
          this.log(info.workflowId, 'warn', `workflow called sink ${key}, which this worker was not given (its sinks option); the call is dropped, and later ones are not reported again`);
        }
        continue;
      }
      if (call.isReplaying && sink.callDuringReplay !== true) continue;
      const failed = (error: unknown) => this.log(info.workflowId, 'error', `sink ${call.ifaceName}.${call.fnName} failed: ${messageOf(error)}`);
      try {
        const r = sink.fn({ ...info }, ...(call.args as []));
        if (r !== null && typeof r === 'object' && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, failed);
      } catch (error) {
        failed(error);
      }
    }
  }
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return '(an error that cannot be described)';
  }
}
