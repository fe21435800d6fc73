/** The engine's public surface (host side): the local WorkflowService, its Store seam (lib/backends/store.ts) and errors. */
export { LocalWorkflowService, systemClock } from './local-service';
export type { Clock, LocalWorkflowServiceOptions } from './local-service';
export type { HistoryWarning } from './history-limits';
export {
  DEFAULT_LIMITS,
  DEFAULT_MAX_COMMANDS_PER_TASK,
  DEFAULT_MAX_HISTORY_BYTES,
  DEFAULT_MAX_HISTORY_EVENTS,
  DEFAULT_MAX_ID_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_WARN_HISTORY_BYTES,
  DEFAULT_WARN_HISTORY_EVENTS,
  LIMIT_RANGES,
  MAX_PAYLOAD_DEPTH_ALLOWED,
} from './limits';
export type { Limits } from './limits';
export { QueryFailedError, StaleTaskError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../service-errors';
export { InProcessChangeFeed } from './notifier';
export type {
  ActivitySchedule,
  Change,
  ChangeFeed,
  HistoryStore,
  Lease,
  QueryAnswer,
  QueryRecord,
  QueryStore,
  RunRecord,
  RunStore,
  Store,
  StoreTx,
  TaskKind,
  TaskRecord,
  TaskStore,
  TimerKind,
  TimerRecord,
  TimerStore,
  TransactionOptions,
} from '../backends/store';
