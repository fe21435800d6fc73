/**
 * `deja schedule` (host side): list, describe, pause, unpause, trigger and delete schedules through
 * the ScheduleClient, on the backend `--backend` (else DEJA_BACKEND, else the default) names.
 * Human output by default; `--json` prints one JSON document. An unknown schedule exits 3.
 */
import { ScheduleOverlapPolicy, type ScheduleDescription } from '../client/schedules';
import { ScheduleNotFoundError } from '../service-errors';
import { NotFoundError, UsageError, jsonLine, parse, positionalsOf, stringFlag, type Out } from './common';
import { withClient } from './operate';

export const SCHEDULE_HELP = `Usage: deja schedule <action> [scheduleId] [options]

Operates schedules (create them with the ScheduleClient: client.schedule.create(...)).

  deja schedule list                        every schedule: id, workflow type, state, next action
  deja schedule describe <scheduleId>       its spec, policies, state and what it has done
  deja schedule pause <scheduleId>          no actions until unpaused   [--note <text>]
  deja schedule unpause <scheduleId>        actions resume from now     [--note <text>]
  deja schedule trigger <scheduleId>        take an action now          [--overlap <policy>]
  deja schedule delete <scheduleId>         delete it (its running workflows go on)

  --note <text>            why (pause, unpause)
  --overlap <policy>       ${Object.keys(ScheduleOverlapPolicy).join(', ')} (trigger; default: the schedule's own)
  --backend <backend>      memory:<name> or sqlite:<file>; default DEJA_BACKEND, else the default backend
  --json                   machine output: one JSON document on stdout

Exit status: 0 done, 1 deja failed, 2 bad usage, 3 no such schedule.`;

const ACTIONS = ['list', 'describe', 'pause', 'unpause', 'trigger', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const OPTIONS = {
  backend: { type: 'string' },
  json: { type: 'boolean' },
  note: { type: 'string' },
  overlap: { type: 'string' },
} as const;

/** The description as JSON: Dates as ISO strings, without the raw copy. */
function descriptionJson(d: ScheduleDescription): unknown {
  const { raw: _raw, ...rest } = d;
  void _raw;
  return JSON.parse(JSON.stringify(rest));
}

export async function scheduleCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('schedule', args, OPTIONS);
  if (values.help) {
    out.log(SCHEDULE_HELP);
    return 0;
  }
  const [action, ...rest] = positionals;
  if (!ACTIONS.includes(action as Action)) {
    throw new UsageError(`schedule: ${action === undefined ? 'no action given' : `unknown action "${action}"`}; expected one of ${ACTIONS.join(', ')}`);
  }
  const where = `schedule ${action}`;
  const note = stringFlag(values, 'note');
  const overlap = stringFlag(values, 'overlap');
  if (note !== undefined && action !== 'pause' && action !== 'unpause') throw new UsageError(`${where}: --note is for pause and unpause`);
  if (overlap !== undefined) {
    if (action !== 'trigger') throw new UsageError(`${where}: --overlap is for trigger`);
    if (!Object.hasOwn(ScheduleOverlapPolicy, overlap)) throw new UsageError(`${where}: --overlap "${overlap}" is not a policy; expected one of ${Object.keys(ScheduleOverlapPolicy).join(', ')}`);
  }
  const [scheduleId] = action === 'list' ? positionalsOf(where, rest, []) : positionalsOf(where, rest, ['scheduleId']);
  return withClient(where, values, async (client) => {
    const schedules = client.schedule;
    try {
      switch (action as Action) {
        case 'list': {
          const all = [];
          for await (const s of schedules.list()) all.push(s);
          if (values.json) out.log(jsonLine(JSON.parse(JSON.stringify(all))));
          else if (all.length === 0) out.log('no schedules');
          else {
            for (const s of all) {
              const next = s.info.nextActionTimes[0]?.toISOString() ?? '-';
              out.log(`${s.scheduleId}  ${s.action.workflowType}  ${s.state.paused ? 'paused' : 'active'}  next ${next}`);
            }
          }
          return 0;
        }
        case 'describe': {
          const d = await schedules.getHandle(scheduleId!).describe();
          if (values.json) {
            out.log(jsonLine(descriptionJson(d)));
            return 0;
          }
          const spec = [...d.spec.cronExpressions.map((c) => `cron "${c}"`), ...d.spec.intervals.map((i) => `every ${i.every} ms${i.offset ? ` + ${i.offset} ms` : ''}`)].join(', ');
          const rows: [string, string][] = [
            ['schedule id', d.scheduleId],
            ['spec', spec],
            ['workflow', `${d.action.workflowType} on "${d.action.taskQueue}", ids "${d.action.workflowId}-<time>"`],
            ['overlap', d.policies.overlap],
            ['state', `${d.state.paused ? 'paused' : 'active'}${d.state.note ? ` (${d.state.note})` : ''}${d.state.remainingActions !== undefined ? `, ${d.state.remainingActions} actions left` : ''}`],
            ['actions', `${d.info.numActionsTaken} taken, ${d.info.numActionsSkippedOverlap} skipped (overlap), ${d.info.numActionsMissedCatchupWindow} missed (catch-up window)`],
            ['running', d.info.runningActions.map((a) => a.workflow.workflowId).join(', ') || '-'],
            ['next', d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()).join(', ') || '-'],
          ];
          for (const [k, v] of rows) out.log(`${k.padEnd(12)} ${v}`);
          return 0;
        }
        case 'pause':
          await schedules.getHandle(scheduleId!).pause(note);
          break;
        case 'unpause':
          await schedules.getHandle(scheduleId!).unpause(note);
          break;
        case 'trigger':
          await schedules.getHandle(scheduleId!).trigger(overlap as ScheduleOverlapPolicy | undefined);
          break;
        case 'delete':
          await schedules.getHandle(scheduleId!).delete();
          break;
      }
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) {
        throw new NotFoundError(`${where}: ${error.message}; expected the id of an existing schedule ("deja schedule list" shows them)`, { cause: error });
      }
      throw error;
    }
    if (values.json) out.log(jsonLine({ scheduleId, done: action }));
    else out.log(`schedule ${scheduleId}: ${action === 'pause' ? 'paused' : action === 'unpause' ? 'unpaused' : action === 'trigger' ? 'triggered' : 'deleted'}`);
    return 0;
  });
}
