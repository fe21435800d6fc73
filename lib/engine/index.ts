/** The engine's public surface (host side): the local WorkflowService, its Store seam and errors. */
export { LocalWorkflowService, systemClock } from './local-service';
export type { Clock, LocalWorkflowServiceOptions } from './local-service';
export { QueryFailedError, StaleTaskError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from './errors';
export type {
  ActivitySchedule,
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
} from './store';
