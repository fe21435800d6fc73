/**
 * Every piece of deja the bench uses, in one place (host side). The public entry (`deja`,
 * lib/index.ts) where it has the piece; the layer's own module where it does not (initFromStart,
 * the memory store). Run from source through ../register.js.
 */
export {
  Connection,
  WorkflowClient,
  Worker,
  bundleWorkflowCode,
  replayHistory,
  replayHistories,
  parseHistory,
  ReplayMachine,
  IsolatePool,
  LocalWorkflowService,
  DeterminismViolationError,
} from '../../lib';
export type { History, HistoryEvent, WorkflowBundle, ActivationRunner, Clock } from '../../lib';
export { initFromStart } from '../../lib/replay';
export { disposeIdleReplayPools } from '../../lib/testing/replay';
export { SandboxExecution } from '../../lib/sandbox';
export { MemoryStore } from '../../lib/backends/memory';
export { ENTRY_POINTS, PROTOCOL_VERSION } from '../../runtime/protocol';
export type { Activation, ActivationCompletion, InitMessage, Command } from '../../runtime/protocol';
