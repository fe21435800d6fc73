// Type-level test: a new command, job or event kind does not compile until every table that must
// know it has an entry. Checked by `tsc -p tsconfig.json` (part of `node scripts/test.js`), never
// run. Each `@ts-expect-error` is itself an error if the line below it compiles, so if a table
// stopped being exhaustive (a Partial, an index signature, a `string` key) this file would fail.
// Each failing table has a twin with the new entry added that must compile: the expected error is
// the missing entry, not something else.
//
// The made-up kind is shaped like Temporal's child workflow: a command, the job that resolves it,
// the event that records the command and the event of its start. Its names are made up on purpose:
// were a real kind to take them, the `@ts-expect-error` lines would fail and need new names.
import type { ActivationJob, Command, ClosingCommands } from '../../runtime/protocol';
import { CLOSING_COMMANDS } from '../../runtime/protocol';
import type { JobHandlers } from '../../runtime/internals';
import type { HistoryEvent } from '../../lib/history/events';
import type { CommandMatchers, CommandRecords, EventHandlers, EveryCommandRecorded, UnrecordedCommand } from '../../lib/replay';

interface MadeUpStartCommand {
  type: 'madeUpStart';
  seq: number;
  workflowType: string;
}
interface MadeUpResolveJob {
  type: 'madeUpResolve';
  seq: number;
  runId: string;
}
interface MadeUpInitiatedEvent {
  type: 'madeUpInitiated';
  eventId: number;
  eventTime: string;
  workflowType: string;
}
interface MadeUpStartedEvent {
  type: 'madeUpStarted';
  eventId: number;
  eventTime: string;
  initiatedEventId: number;
}

type WiderCommand = Exclude<Command, { type: UnrecordedCommand }> | MadeUpStartCommand;
type WiderJob = ActivationJob | MadeUpResolveJob;
type WiderEvent = HistoryEvent | MadeUpInitiatedEvent | MadeUpStartedEvent;

// ── protocol: whether a command closes the run ───────────────────────────────────────────────────

// @ts-expect-error madeUpStart does not say whether it closes the run
export const closingMissing: ClosingCommands<WiderCommand> = { ...CLOSING_COMMANDS };
export const closingComplete: ClosingCommands<WiderCommand> = { ...CLOSING_COMMANDS, madeUpStart: false };

// ── runtime: the Activator's job handlers ────────────────────────────────────────────────────────

declare const todaysJobHandlers: JobHandlers;
// @ts-expect-error madeUpResolve has no handler
export const jobsMissing: JobHandlers<WiderJob> = { ...todaysJobHandlers };
export const jobsComplete: JobHandlers<WiderJob> = { ...todaysJobHandlers, madeUpResolve: (job) => void job.runId };

// ── replay: which event records which command ────────────────────────────────────────────────────

type WiderRecords = CommandRecords & { madeUpInitiated: 'madeUpStart' };

// The table today is complete for today's commands (lib/replay makes the same check).
// (A rejected update is the one command no event records: lib/replay's UNRECORDED_COMMANDS.)
export const recordedToday: EveryCommandRecorded<Exclude<Command, { type: UnrecordedCommand }>, CommandRecords> = true;
// @ts-expect-error madeUpStart is recorded by no event
export const recordedMissing: EveryCommandRecorded<WiderCommand, CommandRecords> = true;
export const recordedComplete: EveryCommandRecorded<WiderCommand, WiderRecords> = true;

// ── replay: every other event has a handler (a job, the activation, or nothing) ─────────────────

declare const todaysEventHandlers: EventHandlers;
// @ts-expect-error madeUpStarted is not classified
export const eventsMissing: EventHandlers<WiderEvent, WiderRecords> = { ...todaysEventHandlers };
export const eventsComplete: EventHandlers<WiderEvent, WiderRecords> = { ...todaysEventHandlers, madeUpStarted: (event) => void event.initiatedEventId };
// An event the records table does not list as a command event needs a handler too.
// @ts-expect-error madeUpInitiated, not listed as a command event, has no handler
export const unlistedMissing: EventHandlers<WiderEvent, CommandRecords> = { ...todaysEventHandlers, madeUpStarted: 'nothing' };

// ── replay: every command event has a matcher ───────────────────────────────────────────────────

declare const todaysMatchers: CommandMatchers;
// @ts-expect-error madeUpInitiated has no matcher
export const matchersMissing: CommandMatchers<WiderEvent, WiderCommand, WiderRecords> = { ...todaysMatchers };
export const matchersComplete: CommandMatchers<WiderEvent, WiderCommand, WiderRecords> = {
  ...todaysMatchers,
  // The matcher gets the event and the command of the kind it records, both typed.
  madeUpInitiated: (event, command) => event.workflowType === command.workflowType,
};
