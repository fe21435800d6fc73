// Type-level test: a new command, job or event kind does not compile until every table that must
// know it has an entry. Checked by `tsc -p tsconfig.json` (part of `node scripts/test.js`), never
// run. Each `@ts-expect-error` is itself an error if the line below it compiles, so if a table
// stopped being exhaustive (a Partial, an index signature, a `string` key) this file would fail.
// Each failing table has a twin with the new entry added that must compile: the expected error is
// the missing entry, not something else.
//
// The made-up kind is Temporal's child workflow: a `startChildWorkflow` command, the job that
// resolves it, and the events that record it and its start.
import type { ActivationJob, Command, ClosingCommands } from '../../runtime/protocol';
import { CLOSING_COMMANDS } from '../../runtime/protocol';
import type { JobHandlers } from '../../runtime/internals';
import type { HistoryEvent } from '../../lib/history/events';
import type { CommandMatchers, CommandRecords, EventHandlers, EveryCommandRecorded } from '../../lib/replay';

interface StartChildWorkflowCommand {
  type: 'startChildWorkflow';
  seq: number;
  workflowType: string;
}
interface ResolveChildWorkflowStartJob {
  type: 'resolveChildWorkflowStart';
  seq: number;
  runId: string;
}
interface StartChildWorkflowInitiatedEvent {
  type: 'startChildWorkflowExecutionInitiated';
  eventId: number;
  eventTime: string;
  workflowType: string;
}
interface ChildWorkflowStartedEvent {
  type: 'childWorkflowExecutionStarted';
  eventId: number;
  eventTime: string;
  initiatedEventId: number;
}

type WiderCommand = Command | StartChildWorkflowCommand;
type WiderJob = ActivationJob | ResolveChildWorkflowStartJob;
type WiderEvent = HistoryEvent | StartChildWorkflowInitiatedEvent | ChildWorkflowStartedEvent;

// ── protocol: whether a command closes the run ───────────────────────────────────────────────────

// @ts-expect-error startChildWorkflow does not say whether it closes the run
export const closingMissing: ClosingCommands<WiderCommand> = { ...CLOSING_COMMANDS };
export const closingComplete: ClosingCommands<WiderCommand> = { ...CLOSING_COMMANDS, startChildWorkflow: false };

// ── runtime: the Activator's job handlers ────────────────────────────────────────────────────────

declare const todaysJobHandlers: JobHandlers;
// @ts-expect-error resolveChildWorkflowStart has no handler
export const jobsMissing: JobHandlers<WiderJob> = { ...todaysJobHandlers };
export const jobsComplete: JobHandlers<WiderJob> = { ...todaysJobHandlers, resolveChildWorkflowStart: (job) => void job.runId };

// ── replay: which event records which command ────────────────────────────────────────────────────

type WiderRecords = CommandRecords & { startChildWorkflowExecutionInitiated: 'startChildWorkflow' };

// The table today is complete for today's commands (lib/replay makes the same check).
export const recordedToday: EveryCommandRecorded<Command, CommandRecords> = true;
// @ts-expect-error startChildWorkflow is recorded by no event
export const recordedMissing: EveryCommandRecorded<WiderCommand, CommandRecords> = true;
export const recordedComplete: EveryCommandRecorded<WiderCommand, WiderRecords> = true;

// ── replay: every other event has a handler (a job, the activation, or nothing) ─────────────────

declare const todaysEventHandlers: EventHandlers;
// @ts-expect-error childWorkflowExecutionStarted is not classified
export const eventsMissing: EventHandlers<WiderEvent, WiderRecords> = { ...todaysEventHandlers };
export const eventsComplete: EventHandlers<WiderEvent, WiderRecords> = { ...todaysEventHandlers, childWorkflowExecutionStarted: (event) => void event.initiatedEventId };
// An event the records table does not list as a command event needs a handler too.
// @ts-expect-error startChildWorkflowExecutionInitiated, not listed as a command event, has no handler
export const unlistedMissing: EventHandlers<WiderEvent, CommandRecords> = { ...todaysEventHandlers, childWorkflowExecutionStarted: 'nothing' };

// ── replay: every command event has a matcher ───────────────────────────────────────────────────

declare const todaysMatchers: CommandMatchers;
// @ts-expect-error startChildWorkflowExecutionInitiated has no matcher
export const matchersMissing: CommandMatchers<WiderEvent, WiderCommand, WiderRecords> = { ...todaysMatchers };
export const matchersComplete: CommandMatchers<WiderEvent, WiderCommand, WiderRecords> = {
  ...todaysMatchers,
  // The matcher gets the event and the command of the kind it records, both typed.
  startChildWorkflowExecutionInitiated: (event, command) => event.workflowType === command.workflowType,
};
