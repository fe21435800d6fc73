/**
 * Workflow updates, default handlers and handler bookkeeping (inside the isolate).
 *
 * A `doUpdate` job runs the update's validator (live only: `runValidator`), then answers
 * `acceptUpdate` or `rejectUpdate` at once, runs the handler in the root cancellation scope (as a
 * signal handler runs) and answers `completeUpdate` when it settles. An update whose name has no
 * handler waits until the end of the activation, since the main function or a handler may still
 * register it (`setHandler` delivers it then); what is still waiting then goes to the default
 * update handler, or is rejected with Temporal's wording.
 *
 * Semantics follow Temporal's: a validator that throws (anything) rejects the update; a handler
 * that throws a TemporalFailure (ApplicationFailure, …) fails the update; a handler that throws
 * any other error is a bug and fails the workflow task, as a signal handler's does.
 *
 * Uses only the intrinsics of primordials.ts; what it hands to the host is prototype-less.
 */
import { Map, MapPrototypeGet, MapPrototypeSet, MapPrototypeDelete, ReflectApply, TypeError, append, list, record, removeAt, whenSettled } from './primordials';
import type { ActivationJob, Command, Payload, WireFailure } from './protocol';
import { ApplicationFailure, isTemporalFailure, wireFailure } from './failure';
import { runInContext, runInUpdate } from './async-context';
import { asPromise, emptyHeaders, hasInterceptors, interceptInbound, type UpdateInput } from './interceptors';

export type UpdateHandler = (...args: any[]) => unknown;
export type UpdateValidator = (...args: any[]) => void;
/** A default handler gets the name first: `(name, ...args)`. */
export type DefaultHandler = (name: string, ...args: any[]) => unknown;

interface UpdateEntry {
  handler: UpdateHandler;
  validator: UpdateValidator | undefined;
  description: string | undefined;
}

/** What `currentUpdateInfo()` returns inside an update's handler (and its validator). */
export interface UpdateInfo {
  /** The update's id. */
  readonly id: string;
  /** The update's name. */
  readonly name: string;
}

type DoUpdateJob = Extract<ActivationJob, { type: 'doUpdate' }>;

/** What the state machine gives this module: its command buffer and its task failure. */
export interface MessageHost {
  push(command: Command): void;
  failTask(error: unknown): void;
}

export class MessageHandlers {
  readonly updateHandlers = new Map<string, UpdateEntry>();
  defaultSignal: DefaultHandler | undefined;
  defaultQuery: DefaultHandler | undefined;
  private defaultUpdate: DefaultHandler | undefined;
  /** Updates whose name had no handler when they arrived, in arrival order. */
  private readonly buffered: DoUpdateJob[] = list();
  /** Signal and update handlers that have started and not yet settled. */
  private running = 0;

  constructor(private readonly host: MessageHost) {}

  /** True when no signal or update handler is still running (`allHandlersFinished`). */
  get allFinished(): boolean {
    return this.running === 0;
  }

  /** Counts a signal handler's promise as running until it settles; `onRejected` gets its rejection. */
  track(result: unknown, onRejected: (error: unknown) => void): void {
    if (typeof result !== 'object' || result === null) return;
    this.running++;
    whenSettled(
      result,
      () => {
        this.running--;
      },
      (error) => {
        this.running--;
        onRejected(error);
      },
    );
  }

  doUpdate(job: DoUpdateJob): void {
    const entry = MapPrototypeGet(this.updateHandlers, job.name);
    if (entry !== undefined) this.run(job, entry.handler, entry.validator, false);
    else append(this.buffered, job);
  }

  setUpdateHandler(name: string, handler: UpdateHandler | undefined, validator: UpdateValidator | undefined, description: string | undefined): void {
    if (handler === undefined) {
      MapPrototypeDelete(this.updateHandlers, name);
      return;
    }
    MapPrototypeSet(this.updateHandlers, name, record({ handler, validator, description }));
    for (let i = 0; i < this.buffered.length; ) {
      if (this.buffered[i].name === name) this.run(removeAt(this.buffered, i), handler, validator, false);
      else i++;
    }
  }

  setDefaultUpdateHandler(handler: DefaultHandler | undefined): void {
    this.defaultUpdate = handler;
    if (handler === undefined) return;
    while (this.buffered.length > 0) this.run(removeAt(this.buffered, 0), handler, undefined, true);
  }

  /**
   * The end of an activation: updates still without a handler go to the default update handler,
   * or are rejected (Temporal's wording). True when a handler ran (its continuations need another
   * round of the activation). A replayed one was accepted when recorded, so rejecting
   * it here leaves its accepted event unmatched: replay then names the nondeterminism.
   */
  endOfActivation(): boolean {
    let ran = false;
    while (this.buffered.length > 0) {
      const job = removeAt(this.buffered, 0);
      const fallback = this.defaultUpdate;
      if (fallback !== undefined) {
        this.run(job, fallback, undefined, true);
        ran = true;
        continue;
      }
      const failure = ApplicationFailure.nonRetryable(`No registered handler for update: ${job.name}`, 'UpdateNotFound');
      this.host.push(record({ type: 'rejectUpdate', updateId: job.updateId, failure: wireFailure(failure) }));
    }
    return ran;
  }

  private run(job: DoUpdateJob, handler: UpdateHandler | DefaultHandler, validator: UpdateValidator | undefined, isDefault: boolean): void {
    const updateId = job.updateId;
    const info: UpdateInfo = record({ id: updateId, name: job.name });
    const args = list<unknown>();
    if (isDefault) append(args, job.name);
    for (let i = 0; i < job.args.length; i++) append(args, job.args[i]);
    // With inbound interceptors: `validateUpdate` and `handleUpdate` around the validator and the
    // handler, which get the arguments of the input the interceptors pass on.
    const intercepted = hasInterceptors();
    const input: UpdateInput | undefined = intercepted ? record({ updateId, name: job.name, args: job.args, headers: emptyHeaders() }) : undefined;
    const argsOf = (given: UpdateInput): unknown[] => {
      const out = list<unknown>();
      if (isDefault) append(out, given.name);
      for (let i = 0; i < given.args.length; i++) append(out, given.args[i]);
      return out;
    };
    if (job.runValidator && (validator !== undefined || intercepted)) {
      try {
        // What the validator returns is ignored, as in Temporal: an `async` validator accepts, and a
        // rejection of its promise is left unhandled, which fails the workflow task there as here.
        runInContext(undefined, () =>
          runInUpdate(info, () =>
            input !== undefined
              ? interceptInbound('validateUpdate', input, (given) => {
                  if (validator !== undefined) ReflectApply(validator, undefined, argsOf(given));
                })
              : ReflectApply(validator!, undefined, args),
          ),
        );
      } catch (error) {
        this.host.push(record({ type: 'rejectUpdate', updateId, failure: wireFailure(error) }));
        return;
      }
    }
    this.host.push(record({ type: 'acceptUpdate', updateId }));
    let result: unknown;
    try {
      result = runInContext(undefined, () =>
        runInUpdate(info, () =>
          input !== undefined
            ? interceptInbound('handleUpdate', input, (given) => asPromise(() => ReflectApply(handler, undefined, argsOf(given))))
            : ReflectApply(handler, undefined, args),
        ),
      );
    } catch (error) {
      this.failed(updateId, error);
      return;
    }
    this.running++;
    whenSettled(
      result,
      (value) => {
        this.running--;
        const command: Command = value === undefined ? record({ type: 'completeUpdate', updateId }) : record({ type: 'completeUpdate', updateId, result: value as Payload });
        this.host.push(command);
      },
      (error) => {
        this.running--;
        this.failed(updateId, error);
      },
    );
  }

  /** A handler threw: a TemporalFailure fails the update; anything else is a bug that fails the task. */
  private failed(updateId: string, error: unknown): void {
    if (isTemporalFailure(error)) this.host.push(record({ type: 'completeUpdate', updateId, failure: wireFailure(error) }));
    else this.host.failTask(error);
  }
}
