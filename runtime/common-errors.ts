/**
 * The error classes Temporal's `@temporalio/common` exports and `@temporalio/workflow` re-exports
 * (both sides: pure code, bundled into the isolate and loaded on the host; lib/ re-exports them).
 *
 * Each class is marked as Temporal marks its own: a non-enumerable `Symbol.for('__temporal_is<Name>')`
 * on the prototype, which the class's `instanceof` checks. So `instanceof` holds across copies of
 * deja, across the isolate boundary's two bundles, and against Temporal's own classes of the same
 * name. A subclass that does not define its own check falls back to the prototype chain.
 */
import { DejaError, DeterminismViolationError } from './errors';
import {
  Error,
  ObjectDefineProperty,
  ObjectPrototypeIsPrototypeOf,
  SymbolFor,
  SymbolHasInstance,
  dataProperty,
  isObject,
  tryGet,
} from './primordials';

/** Gives `ctor` Temporal's marker, its fixed name, and the marker-based `instanceof`. */
function markAsTemporal(ctor: abstract new (...args: any[]) => object, name: string, alsoAccepts?: (value: object) => boolean): void {
  const marker = SymbolFor('__temporal_is' + name);
  ObjectDefineProperty(ctor, 'name', dataProperty(name, false, false, true));
  ObjectDefineProperty(ctor.prototype, 'name', dataProperty(name, true, true, true));
  ObjectDefineProperty(ctor.prototype, marker, dataProperty(true, false, false, false));
  ObjectDefineProperty(ctor, SymbolHasInstance, {
    value: function (this: unknown, value: unknown): boolean {
      'use strict';
      if (!isObject(value)) return false;
      try {
        if (this !== ctor) return typeof this === 'function' && ObjectPrototypeIsPrototypeOf(tryGet(this, 'prototype') as object, value);
        return tryGet(value, marker) === true || (alsoAccepts !== undefined && alsoAccepts(value));
      } catch {
        return false;
      }
    },
  });
}

/** A value is not what was expected (Temporal's: bad enum values, bad payloads). */
export class ValueError extends Error {
  constructor(
    message?: string,
    override readonly cause?: unknown,
  ) {
    super(message ?? undefined);
  }
}
markAsTemporal(ValueError, 'ValueError');

/** A payload could not be converted (Temporal's; deja's JSON payloads raise it for nothing yet). */
export class PayloadConverterError extends ValueError {}
markAsTemporal(PayloadConverterError, 'PayloadConverterError');

/** The namespace does not exist. deja has one namespace, `default`. */
export class NamespaceNotFoundError extends Error {
  constructor(readonly namespace: string) {
    super(`Namespace not found: '${namespace}'`);
  }
}
markAsTemporal(NamespaceNotFoundError, 'NamespaceNotFoundError');

/**
 * Temporal's base of the workflow's own errors. deja's DeterminismViolationError (a DejaError) is
 * an instance of it too, as Temporal's DeterminismViolationError extends it.
 */
export class WorkflowError extends Error {}
markAsTemporal(WorkflowError, 'WorkflowError', (value) => value instanceof DeterminismViolationError);

/**
 * Thrown by an activity that will be completed later, from outside, by its task token or ids
 * (AsyncCompletionClient). The worker then neither completes nor fails the attempt: it stays open
 * until it is completed, or until its start-to-close (or heartbeat) timeout. Recognised across
 * copies of deja and Temporal's own class (the marker Temporal's `instanceof` checks).
 */
export class CompleteAsyncError extends Error {
  constructor(message?: string) {
    super(message ?? 'the activity will be completed asynchronously');
  }
}
markAsTemporal(CompleteAsyncError, 'CompleteAsyncError');

/**
 * No such workflow id or run, or the run has closed (Temporal's wording for a signal to it). A
 * DejaError with the code DEJA_NOT_FOUND: the host's services throw it, and the class is the same
 * in workflow code.
 */
export class WorkflowNotFoundError extends DejaError {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId?: string,
  ) {
    super('DEJA_NOT_FOUND', message);
  }
}
ObjectDefineProperty(WorkflowNotFoundError, 'name', dataProperty('WorkflowNotFoundError', false, false, true));
