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

/**
 * Gives `ctor` Temporal's marker, its fixed name, and the marker-based `instanceof`; returns it.
 * Each class is made by a call of this annotated as pure for the bundler, so a bundle whose code
 * never names the class leaves it out: no workflow context pays for classes it does not use.
 */
function markAsTemporal<C extends abstract new (...args: any[]) => object>(ctor: C, name: string, alsoAccepts?: (value: object) => boolean): C {
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
  return ctor;
}

class ValueErrorClass extends Error {
  constructor(
    message?: string,
    override readonly cause?: unknown,
  ) {
    super(message ?? undefined);
  }
}
/** A value is not what was expected (Temporal's: bad enum values, bad payloads). */
export const ValueError = /* @__PURE__ */ markAsTemporal(ValueErrorClass, 'ValueError');
export type ValueError = ValueErrorClass;

class PayloadConverterErrorClass extends ValueError {}
/** A payload could not be converted (Temporal's; deja's JSON payloads raise it for nothing yet). */
export const PayloadConverterError = /* @__PURE__ */ markAsTemporal(PayloadConverterErrorClass, 'PayloadConverterError');
export type PayloadConverterError = PayloadConverterErrorClass;

class NamespaceNotFoundErrorClass extends Error {
  constructor(readonly namespace: string) {
    super(`Namespace not found: '${namespace}'`);
  }
}
/** The namespace does not exist. deja has one namespace, `default`. */
export const NamespaceNotFoundError = /* @__PURE__ */ markAsTemporal(NamespaceNotFoundErrorClass, 'NamespaceNotFoundError');
export type NamespaceNotFoundError = NamespaceNotFoundErrorClass;

class WorkflowErrorClass extends Error {}
/**
 * Temporal's base of the workflow's own errors. deja's DeterminismViolationError (a DejaError) is
 * an instance of it too, as Temporal's DeterminismViolationError extends it.
 */
export const WorkflowError = /* @__PURE__ */ markAsTemporal(WorkflowErrorClass, 'WorkflowError', (value) => value instanceof DeterminismViolationError);
export type WorkflowError = WorkflowErrorClass;

class CompleteAsyncErrorClass extends Error {
  constructor(message?: string) {
    super(message ?? 'the activity will be completed asynchronously');
  }
}
/**
 * Thrown by an activity that will be completed later, from outside, by its task token or ids
 * (AsyncCompletionClient). The worker then neither completes nor fails the attempt: it stays open
 * until it is completed, or until its start-to-close (or heartbeat) timeout. Recognised across
 * copies of deja and Temporal's own class (the marker Temporal's `instanceof` checks).
 */
export const CompleteAsyncError = /* @__PURE__ */ markAsTemporal(CompleteAsyncErrorClass, 'CompleteAsyncError');
export type CompleteAsyncError = CompleteAsyncErrorClass;

class WorkflowNotFoundErrorClass extends DejaError {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId?: string,
  ) {
    super('DEJA_NOT_FOUND', message);
  }
}
/**
 * No such workflow id or run, or the run has closed (Temporal's wording for a signal to it). A
 * DejaError with the code DEJA_NOT_FOUND: the host's services throw it, and the class is the same
 * in workflow code.
 */
export const WorkflowNotFoundError = /* @__PURE__ */ named(WorkflowNotFoundErrorClass, 'WorkflowNotFoundError');
export type WorkflowNotFoundError = WorkflowNotFoundErrorClass;

/** `ctor` with the fixed name `name`; returns it (see markAsTemporal). */
function named<C extends abstract new (...args: any[]) => object>(ctor: C, name: string): C {
  ObjectDefineProperty(ctor, 'name', dataProperty(name, false, false, true));
  return ctor;
}
