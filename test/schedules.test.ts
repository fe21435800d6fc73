// Schedules end to end (host side): the ScheduleClient over a LocalWorkflowService on a manual
// clock, moved by hand and ticked; never by waiting. Most tests play the worker themselves
// (poll a workflow task, complete or fail it), so each step is exact; one runs a real Worker.
// The whole flow runs on the memory store and on SQLite, and a SQLite file reopened by a new
// service keeps firing the schedule.
import t from 'tap';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../lib/backends/memory';
import { SqliteStore } from '../lib/backends/sqlite';
import type { Store } from '../lib/backends/store';
import { ScheduleClient, ScheduleOverlapPolicy, WorkflowClient } from '../lib/client';
import { LocalWorkflowService } from '../lib/engine';
import { nextSpecTime, nextSpecTimes, rfc3339Seconds } from '../lib/engine/schedules';
import { ScheduleAlreadyRunningError, ScheduleNotFoundError } from '../lib/service-errors';
import type { ScheduleOptions } from '../lib/client';
import { Worker } from '../lib/worker';
import { main } from '../lib/cli/main';
import * as activities from './workflows/activities';
import { testBundle } from './support/env';
import { cmd, ManualClock, pollNow, T0 } from './support/service';

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.DEJA_PROPERTY_RUNS ?? 100);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-schedules-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = () => path.join(dir, `schedules-${++files}.db`);

const Q = 'q';
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

const options = (over: Partial<ScheduleOptions> = {}): ScheduleOptions => ({
  scheduleId: 'sched',
  spec: { intervals: [{ every: '1h' }] },
  action: { type: 'startWorkflow', workflowType: 'job', taskQueue: Q, workflowId: 'job', args: ['x'] },
  ...over,
});

async function setup(t: tap.Test, store: Store = new MemoryStore(), start = T0) {
  const clock = new ManualClock(start);
  const service = new LocalWorkflowService({ store, clock });
  t.teardown(() => service.close());
  const client = new ScheduleClient({ connection: { service } });
  /** Moves the clock to `ms` and runs what is due. */
  const at = async (ms: number) => {
    clock.ms = ms;
    await service.tick();
  };
  /** The runs, oldest first: `<workflowId> <status>`. */
  const runs = async () =>
    (await service.listWorkflows({}))
      .executions.slice()
      .reverse()
      .map((e) => `${e.workflowId} ${e.status}`);
  /** Plays the worker: takes the next workflow task and closes its run. */
  const close = async (how: 'complete' | 'fail' | 'cancelled' = 'complete') => {
    const task = await pollNow((signal) => service.pollWorkflowTask(Q, 'w', signal));
    if (task?.kind !== 'workflow') throw new Error(`expected a workflow task, got ${JSON.stringify(task)}`);
    await service.completeWorkflowTask(task.taskToken, [how === 'complete' ? cmd.complete('ok') : how === 'fail' ? cmd.fail('boom') : cmd.cancelled()]);
    return task.workflowId;
  };
  return { clock, service, client, at, runs, close };
}

// ---- spec arithmetic ----

t.test('next action times over random interval specs: increasing, on the grid, the earliest over all specs', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const interval = fc.integer({ min: 1, max: 5000 }).chain((every) => fc.record({ everyMs: fc.constant(every * 1000), offsetMs: fc.integer({ min: 0, max: every * 1000 - 1 }) }));
  fc.assert(
    fc.property(fc.array(interval, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 4e12 }), (intervals, after) => {
      const times = nextSpecTimes({ intervals }, after, 10);
      if (times.length !== 10) return false;
      let previous = after;
      for (const time of times) {
        if (!(time > previous)) return false;
        if (!intervals.some((i) => (time - i.offsetMs) % i.everyMs === 0)) return false;
        // Nothing on any grid was skipped between two consecutive times.
        for (const i of intervals) {
          const first = i.offsetMs + (Math.floor((previous - i.offsetMs) / i.everyMs) + 1) * i.everyMs;
          if (first < time) return false;
        }
        previous = time;
      }
      return true;
    }),
    { seed, numRuns },
  );
  t.equal(nextSpecTime({ intervals: [{ everyMs: HOUR, offsetMs: 15 * MIN }] }, T0), T0 + 15 * MIN, 'an offset shifts the grid from the epoch');
  t.equal(nextSpecTime({ cronExpressions: ['0 * * * *', '30 * * * *'] }, T0), T0 + 30 * MIN, 'the earliest over cron expressions');
  t.equal(nextSpecTime({ cronExpressions: ['0 12 * * *'], intervals: [{ everyMs: 4 * HOUR }] }, T0), T0 + 4 * HOUR, 'the earliest over crons and intervals');
  t.equal(nextSpecTime({ intervals: [{ everyMs: HOUR }], startAt: T0 + 3 * HOUR }, T0), T0 + 3 * HOUR, 'startAt: a time on the grid at startAt counts');
  t.equal(nextSpecTime({ intervals: [{ everyMs: HOUR }], endAt: T0 + HOUR - 1 }, T0), undefined, 'endAt: none after it');
  t.equal(rfc3339Seconds(Date.UTC(2026, 0, 1, 0, 0, 0, 999)), '2026-01-01T00:00:00Z', "Temporal's id time: RFC 3339, whole seconds, Z");
});

// ---- a real worker ----

t.test('a cron schedule starts workflows at its fire times and a worker runs them', async (t) => {
  // An hour ahead of the real clock (the worker measures activity deadlines in real time), on a whole 5 minutes.
  const start = Math.ceil((Date.now() + HOUR) / (5 * MIN)) * 5 * MIN;
  const { clock, service, client, at } = await setup(t, new MemoryStore(), start);
  const worker = await Worker.create({ connection: { service }, taskQueue: Q, workflowBundle: await testBundle(), activities, logger: () => undefined });
  const running = worker.run();
  t.teardown(async () => {
    worker.shutdown();
    await running;
  });
  const workflows = new WorkflowClient(service);
  const handle = await client.create(
    options({ spec: { cronExpressions: ['*/5 * * * *'] }, action: { type: 'startWorkflow', workflowType: 'orderWorkflow', taskQueue: Q, workflowId: 'order', args: ['ada', 3] } }),
  );
  const first = await handle.describe();
  t.same(
    first.info.nextActionTimes.slice(0, 3).map((d) => d.getTime()),
    [start + 5 * MIN, start + 10 * MIN, start + 15 * MIN],
    'next action times: the cron fire times after creation',
  );
  for (const n of [1, 2]) {
    await at(start + n * 5 * MIN);
    const workflowId = `order-${rfc3339Seconds(start + n * 5 * MIN)}`;
    t.equal(await workflows.getHandle(workflowId).result(), 'Hello, ada! | charged ada 3.00 | Hello, ada (again)!', `fire ${n}: ${workflowId} ran to its result`);
  }
  const d = await handle.describe();
  t.equal(d.info.numActionsTaken, 2);
  t.same(d.info.runningActions, [], 'none still running');
  t.same(
    d.info.recentActions.map((a) => [a.scheduledAt.getTime(), a.action.workflow.workflowId]),
    [1, 2].map((n) => [start + n * 5 * MIN, `order-${rfc3339Seconds(start + n * 5 * MIN)}`]),
  );
  t.equal(clock.now(), start + 10 * MIN);
});

// ---- scripted ----

t.test('an interval schedule with an offset: ids, search attributes, info, next times', async (t) => {
  const { service, client, at, runs, close } = await setup(t);
  const handle = await client.create(options({ spec: { intervals: [{ every: '1h', offset: '15m' }] }, memo: { team: 'ops' } }));
  t.same(
    (await handle.describe()).info.nextActionTimes.slice(0, 2),
    [new Date(T0 + 15 * MIN), new Date(T0 + 75 * MIN)],
    'every hour at a quarter past',
  );
  await at(T0 + 15 * MIN - 1);
  t.same(await runs(), [], 'nothing before the first time');
  await at(T0 + 15 * MIN);
  const id = 'job-2024-01-01T00:15:00Z';
  t.same(await runs(), [`${id} running`], 'started at the first time, named after it');
  const run = await service.describeWorkflow({ workflowId: id });
  t.same(
    run.searchAttributes,
    { TemporalScheduledById: { type: 'KEYWORD', value: 'sched' }, TemporalScheduledStartTime: { type: 'DATETIME', value: iso(T0 + 15 * MIN) } },
    "Temporal's search attributes",
  );
  t.equal(run.workflowType, 'job');
  const history = await service.getHistory({ workflowId: id });
  t.same(history[0].type === 'workflowExecutionStarted' && history[0].input, ['x'], 'with the action’s args');
  let d = await handle.describe();
  t.same(d.info.runningActions, [{ type: 'startWorkflow', workflow: { workflowId: id, firstExecutionRunId: run.runId } }]);
  t.same(d.memo, { team: 'ops' });
  t.equal(d.policies.overlap, 'SKIP', 'the default overlap policy, by name');
  t.equal(d.policies.catchupWindow, 365 * 24 * HOUR, 'the default catch-up window: a year');
  await close();
  await at(T0 + 75 * MIN);
  t.same(await runs(), [`${id} completed`, 'job-2024-01-01T01:15:00Z running']);
  d = await handle.describe();
  t.equal(d.info.numActionsTaken, 2);
  t.equal(d.info.recentActions.length, 2);
  t.same(d.info.recentActions[1].takenAt, new Date(T0 + 75 * MIN));
});

t.test('overlap policies, while a workflow the schedule started runs', async (t) => {
  const scenario = async (t: tap.Test, overlap: ScheduleOverlapPolicy | undefined) => {
    const env = await setup(t);
    const handle = await env.client.create(options({ policies: overlap === undefined ? undefined : { overlap } }));
    for (const n of [1, 2, 3]) await env.at(T0 + n * HOUR); // the first still runs at 2 h and 3 h
    return { ...env, handle };
  };
  const id = (h: number) => `job-2024-01-01T0${h}:00:00Z`;

  t.test('skip (the default)', async (t) => {
    const { handle, runs, close, at } = await scenario(t, undefined);
    t.same(await runs(), [`${id(1)} running`]);
    t.equal((await handle.describe()).info.numActionsSkippedOverlap, 2);
    await close();
    t.same(await runs(), [`${id(1)} completed`], 'a skipped action does not come back');
    await at(T0 + 4 * HOUR);
    t.same(await runs(), [`${id(1)} completed`, `${id(4)} running`]);
  });

  t.test('bufferOne: one waits, the others are skipped', async (t) => {
    const { handle, runs, close } = await scenario(t, ScheduleOverlapPolicy.BUFFER_ONE);
    t.equal((await handle.describe()).info.numActionsSkippedOverlap, 1);
    await close();
    t.same(await runs(), [`${id(1)} completed`, `${id(2)} running`], 'the buffered one starts when the running one closes');
    await close();
    t.same(await runs(), [`${id(1)} completed`, `${id(2)} completed`]);
  });

  t.test('bufferAll: all wait, in order', async (t) => {
    const { handle, runs, close } = await scenario(t, 'SCHEDULE_OVERLAP_POLICY_BUFFER_ALL');
    t.equal((await handle.describe()).info.numActionsSkippedOverlap, 0);
    await close();
    await close();
    t.same(await runs(), [`${id(1)} completed`, `${id(2)} completed`, `${id(3)} running`]);
    t.equal((await handle.describe()).info.numActionsTaken, 3);
  });

  t.test('cancelOther: the running one is asked to cancel; the new one starts once it closed', async (t) => {
    const { service, handle, runs, close } = await scenario(t, ScheduleOverlapPolicy.CANCEL_OTHER);
    const history = await service.getHistory({ workflowId: id(1) });
    t.ok(
      history.some((e) => e.type === 'workflowExecutionCancelRequested'),
      'a cancel request was recorded',
    );
    t.same(await runs(), [`${id(1)} running`], 'nothing new before it closes');
    await close('cancelled');
    t.same(await runs(), [`${id(1)} cancelled`, `${id(3)} running`], 'only the latest action starts');
    t.equal((await handle.describe()).info.numActionsSkippedOverlap, 1, 'the action it replaced counts as skipped');
  });

  t.test('terminateOther: the running one is terminated and the new one starts at once', async (t) => {
    const { handle, runs } = await scenario(t, ScheduleOverlapPolicy.TERMINATE_OTHER);
    t.same(await runs(), [`${id(1)} terminated`, `${id(2)} terminated`, `${id(3)} running`]);
    const d = await handle.describe();
    t.equal(d.info.numActionsTaken, 3);
    t.same(
      d.info.runningActions.map((a) => a.workflow.workflowId),
      [id(3)],
    );
  });

  t.test('allowAll: they run side by side', async (t) => {
    const { handle, runs } = await scenario(t, ScheduleOverlapPolicy.ALLOW_ALL);
    t.same(await runs(), [`${id(1)} running`, `${id(2)} running`, `${id(3)} running`]);
    t.equal((await handle.describe()).info.runningActions.length, 3);
  });
});

t.test('pause and unpause: no actions while paused, none caught up after; notes', async (t) => {
  const { client, at, runs } = await setup(t);
  const handle = await client.create(options());
  await handle.pause();
  let d = await handle.describe();
  t.same([d.state.paused, d.state.note, d.info.nextActionTimes], [true, 'Paused via deja client', []], 'paused, with the default note, no next times');
  await at(T0 + 3 * HOUR);
  t.same(await runs(), [], 'nothing while paused');
  await handle.unpause('back to work');
  d = await handle.describe();
  t.same([d.state.paused, d.state.note], [false, 'back to work']);
  t.same(d.info.nextActionTimes[0], new Date(T0 + 4 * HOUR), 'resumes after the unpause instant');
  t.equal(d.info.numActionsMissedCatchupWindow, 0, 'the paused hours are not counted as missed');
  await at(T0 + 4 * HOUR);
  t.same(await runs(), ['job-2024-01-01T04:00:00Z running']);
  await client.create(options({ scheduleId: 'born-paused', state: { paused: true, note: 'later' } }));
  t.same((await client.getHandle('born-paused').describe()).state, { paused: true, note: 'later' }, 'created paused');
});

t.test('trigger: an action now, paused or not, under the overlap given; remainingActions untouched', async (t) => {
  const { client, at, runs, clock } = await setup(t);
  const handle = await client.create(options({ state: { paused: true, remainingActions: 1 } }));
  await at(T0 + 90_000);
  await handle.trigger();
  t.same(await runs(), ['job-2024-01-01T00:01:30Z running'], 'started at once, while paused, named after now');
  clock.ms += 1000;
  await handle.trigger();
  t.same(await runs(), ['job-2024-01-01T00:01:30Z running'], "a second one under the schedule's skip is skipped");
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  t.same(await runs(), ['job-2024-01-01T00:01:30Z running', 'job-2024-01-01T00:01:31Z running'], 'under ALLOW_ALL it starts');
  const d = await handle.describe();
  t.same([d.info.numActionsTaken, d.info.numActionsSkippedOverlap, d.state.remainingActions], [2, 1, 1], 'triggers do not use up remaining actions');
  await t.rejects(handle.trigger('SOMETIMES' as ScheduleOverlapPolicy), /overlap must be one of ScheduleOverlapPolicy.SKIP/);

  const now = await client.create(options({ scheduleId: 'now', state: { triggerImmediately: true }, action: { type: 'startWorkflow', workflowType: 'job', taskQueue: Q, workflowId: 'now' } }));
  t.equal((await now.describe()).info.numActionsTaken, 1, 'triggerImmediately takes an action at creation');
});

t.test('update: the definition is replaced, the info kept, the timer re-armed', async (t) => {
  const { client, at, runs, close } = await setup(t);
  const handle = await client.create(options());
  await at(T0 + HOUR);
  await close();
  await at(T0 + HOUR + 10 * MIN);
  await handle.update((previous) => ({ ...previous, spec: { cronExpressions: ['*/20 * * * *'] }, policies: { ...previous.policies, overlap: 'ALLOW_ALL' } }));
  const d = await handle.describe();
  t.same(d.spec, { cronExpressions: ['*/20 * * * *'], intervals: [], timezone: 'UTC' });
  t.equal(d.policies.overlap, 'ALLOW_ALL');
  t.equal(d.info.numActionsTaken, 1, 'what it has done is kept');
  t.same(d.info.lastUpdatedAt, new Date(T0 + HOUR + 10 * MIN));
  t.same(d.info.nextActionTimes[0], new Date(T0 + HOUR + 20 * MIN), 'the new spec from now');
  await at(T0 + HOUR + 20 * MIN);
  t.same(await runs(), ['job-2024-01-01T01:00:00Z completed', 'job-2024-01-01T01:20:00Z running'], 'fired at the new time');
  await at(T0 + 2 * HOUR);
  t.same(
    (await runs()).slice(2),
    ['job-2024-01-01T01:40:00Z running', 'job-2024-01-01T02:00:00Z running'],
    'at the new times only (2 h is on both specs: one action)',
  );
  await t.rejects(
    handle.update(() => ({ ...options(), scheduleId: undefined, spec: { intervals: [{ every: 0 }] } }) as never),
    /intervals\[0\]\.everyMs must be an integer number of milliseconds ≥ 1000/,
    'a bad update is refused whole',
  );
  t.same((await handle.describe()).spec.cronExpressions, ['*/20 * * * *'], 'and changes nothing');
});

t.test('update: a description passed back whole keeps every option', async (t) => {
  const { client } = await setup(t);
  const handle = await client.create(
    options({
      spec: { cronExpressions: ['@daily'], intervals: [{ every: '90m', offset: '5m' }], startAt: new Date(T0 + HOUR), endAt: new Date(T0 + 1000 * HOUR) },
      action: {
        type: 'startWorkflow',
        workflowType: 'job',
        taskQueue: Q,
        workflowId: 'job',
        args: [{ n: 1 }],
        workflowRunTimeout: '1h',
        workflowTaskTimeout: '5s',
        retry: { initialInterval: '1s', maximumInterval: '1m', maximumAttempts: 3 },
        memo: { who: 'me' },
      },
      policies: { overlap: 'BUFFER_ALL', catchupWindow: '10m', pauseOnFailure: true },
      state: { paused: true, note: 'n', remainingActions: 7 },
      memo: { kind: 'report' },
    }),
  );
  const before = await handle.describe();
  await handle.update((previous) => previous);
  const after = await handle.describe();
  t.same(after.raw, { ...before.raw, info: { ...before.raw.info, lastUpdatedAt: after.raw.info.lastUpdatedAt } }, 'the same definition and info');
  t.same(after.action.retry, { initialInterval: 1000, maximumInterval: 60_000, maximumAttempts: 3 }, "Temporal's retry shape, in ms");
  t.same([after.action.workflowRunTimeout, after.action.workflowTaskTimeout, after.policies.catchupWindow], [HOUR, 5000, 10 * MIN]);
});

t.test('delete: the schedule and its timer go; its running workflows stay', async (t) => {
  const { service, client, at, runs, close } = await setup(t);
  const handle = await client.create(options());
  await at(T0 + HOUR);
  await handle.delete();
  await t.rejects(handle.describe(), ScheduleNotFoundError);
  await t.rejects(handle.delete(), { code: 'DEJA_SCHEDULE_NOT_FOUND', message: 'schedule "sched" not found' });
  await t.rejects(handle.pause(), ScheduleNotFoundError);
  await t.rejects(service.triggerSchedule('sched'), ScheduleNotFoundError);
  t.same(await runs(), ['job-2024-01-01T01:00:00Z running'], 'its workflow runs on');
  await close();
  t.same(await runs(), ['job-2024-01-01T01:00:00Z completed'], 'and closes without a schedule to tell');
  await at(T0 + 5 * HOUR);
  t.equal((await runs()).length, 1, 'no more actions');
  await client.create(options());
  t.pass('the id can be used again');
});

t.test('remainingActions: it takes that many, then none', async (t) => {
  const { client, at, runs, close } = await setup(t);
  const handle = await client.create(options({ state: { remainingActions: 2 } }));
  t.equal((await handle.describe()).info.nextActionTimes.length, 2, 'only the times it will act at');
  for (const h of [1, 2, 3, 4]) {
    await at(T0 + h * HOUR);
    if ((await runs()).some((r) => r.endsWith('running'))) await close();
  }
  t.same(await runs(), ['job-2024-01-01T01:00:00Z completed', 'job-2024-01-01T02:00:00Z completed']);
  const d = await handle.describe();
  t.same([d.state.remainingActions, d.info.nextActionTimes], [0, []]);
});

t.test('pauseOnFailure: a failed run pauses the schedule with a note', async (t) => {
  const { client, at, runs, close } = await setup(t);
  const handle = await client.create(options({ policies: { pauseOnFailure: true, overlap: 'BUFFER_ONE' } }));
  await at(T0 + HOUR);
  await at(T0 + 2 * HOUR); // buffered behind the first
  await close('fail');
  const d = await handle.describe();
  t.equal(d.state.paused, true);
  t.match(d.state.note, /workflow "job-2024-01-01T01:00:00Z" \(run .*\) failed/);
  t.same(await runs(), ['job-2024-01-01T01:00:00Z failed'], 'the buffered action is dropped');
  await at(T0 + 5 * HOUR);
  t.equal((await runs()).length, 1, 'paused: no more actions');
  const other = await client.create(options({ scheduleId: 'tolerant', action: { type: 'startWorkflow', workflowType: 'job', taskQueue: Q, workflowId: 'tolerant' } }));
  await at(T0 + 6 * HOUR);
  await close('fail');
  t.equal((await other.describe()).state.paused, false, 'without pauseOnFailure a failure changes nothing');
});

t.test('catch-up after a clock jump: actions within the window are taken, older ones counted as missed', async (t) => {
  // The rule implemented (Temporal's): every missed time is looked at in order; one older than the
  // catch-up window is counted in numActionsMissedCatchupWindow, the others are taken one by one
  // under the overlap policy.
  const { client, at, runs } = await setup(t);
  const all = await client.create(options({ scheduleId: 'all', policies: { catchupWindow: '150m', overlap: 'ALLOW_ALL' }, action: { ...options().action, workflowId: 'all' } }));
  const skip = await client.create(options({ scheduleId: 'skip', policies: { catchupWindow: '150m' }, action: { ...options().action, workflowId: 'skip' } }));
  await at(T0 + 5 * HOUR + 30 * MIN); // missed 1 h … 5 h
  t.same(
    (await runs()).filter((r) => r.startsWith('all')),
    ['all-2024-01-01T03:00:00Z running', 'all-2024-01-01T04:00:00Z running', 'all-2024-01-01T05:00:00Z running'],
    'ALLOW_ALL: the three within 150 minutes',
  );
  let d = await all.describe();
  t.same([d.info.numActionsTaken, d.info.numActionsMissedCatchupWindow], [3, 2]);
  t.same(
    (await runs()).filter((r) => r.startsWith('skip')),
    ['skip-2024-01-01T03:00:00Z running'],
    'SKIP: the first within the window; the rest overlap it',
  );
  d = await skip.describe();
  t.same([d.info.numActionsTaken, d.info.numActionsMissedCatchupWindow, d.info.numActionsSkippedOverlap], [1, 2, 2]);
  t.same(d.info.nextActionTimes[0], new Date(T0 + 6 * HOUR), 'and it goes on from now');
});

t.test('startAt and endAt bound the actions', async (t) => {
  const { client, at, runs } = await setup(t);
  const handle = await client.create(
    options({ spec: { intervals: [{ every: '1h' }], startAt: new Date(T0 + 2 * HOUR + 1), endAt: new Date(T0 + 4 * HOUR) }, policies: { overlap: 'ALLOW_ALL' } }),
  );
  t.same((await handle.describe()).info.nextActionTimes, [new Date(T0 + 3 * HOUR), new Date(T0 + 4 * HOUR)], 'only the times between');
  for (const h of [1, 2, 3, 4, 5, 6]) await at(T0 + h * HOUR);
  t.same(await runs(), ['job-2024-01-01T03:00:00Z running', 'job-2024-01-01T04:00:00Z running']);
  const d = await handle.describe();
  t.same([d.spec.startAt, d.spec.endAt, d.info.nextActionTimes], [new Date(T0 + 2 * HOUR + 1), new Date(T0 + 4 * HOUR), []]);
});

t.test('list, ids taken, and bad input refused with what was expected', async (t) => {
  const { service, client } = await setup(t);
  for (const id of ['c', 'a', 'b']) await client.create(options({ scheduleId: id }));
  await t.rejects(client.create(options({ scheduleId: 'a' })), ScheduleAlreadyRunningError);
  await t.rejects(client.create(options({ scheduleId: 'a' })), { code: 'DEJA_SCHEDULE_EXISTS', message: 'schedule "a" already exists' });
  const listed: string[] = [];
  for await (const s of client.list({ pageSize: 2 })) listed.push(`${s.scheduleId} ${s.action.workflowType} ${s.state.paused} ${s.info.nextActionTimes.length}`);
  t.same(listed, ['a job false 10', 'b job false 10', 'c job false 10'], 'by id, across pages');
  const page = await service.listSchedules({ pageSize: 2 });
  t.same(
    page.schedules.map((s) => s.scheduleId),
    ['a', 'b'],
  );
  t.same(
    (await service.listSchedules({ pageSize: 2, nextPageToken: page.nextPageToken })).schedules.map((s) => s.scheduleId),
    ['c'],
  );
  await t.rejects(service.listSchedules({ nextPageToken: '!!' }), /nextPageToken the string "!!" is not a page token from a previous listSchedules page/);

  const bad: [string, Partial<ScheduleOptions> | Record<string, unknown>, RegExp][] = [
    ['a bad cron', { spec: { cronExpressions: ['61 * * * *'] } }, /schedule.spec.cronExpressions\[0\]: the string "61 \* \* \* \*" is not a valid cron expression: .*minute/],
    ['a six-field cron', { spec: { cronExpressions: ['0 0 * * * *'] } }, /has 6 fields; expected five/],
    ['a zero interval', { spec: { intervals: [{ every: 0 }] } }, /everyMs must be an integer number of milliseconds ≥ 1000 \(the shortest interval is one second\), got number 0/],
    ['a bad duration', { spec: { intervals: [{ every: 'often' }] } }, /spec.intervals\[0\].every must be a duration such as '1h'/],
    ['an offset past the interval', { spec: { intervals: [{ every: '1h', offset: '2h' }] } }, /offsetMs must be less than everyMs/],
    ['an empty spec', { spec: {} }, /spec must have at least one cron expression \(cronExpressions\) or interval \(intervals\)/],
    ['endAt before startAt', { spec: { intervals: [{ every: '1h' }], startAt: new Date(T0), endAt: new Date(T0 - 1) } }, /endAt .* must not be before startAt/],
    ['an unknown overlap policy', { policies: { overlap: 'SOMETIMES' as ScheduleOverlapPolicy } }, /policies.overlap must be one of ScheduleOverlapPolicy.SKIP, .*got the string "SOMETIMES"/],
    ['calendars', { spec: { calendars: [{ hour: 1 }] } as never }, /spec.calendars \(calendar specs\) are not supported yet/],
    ['jitter', { spec: { intervals: [{ every: '1h' }], jitter: '1m' } as never }, /spec.jitter is not supported yet/],
    ['a time zone', { spec: { intervals: [{ every: '1h' }], timezone: 'Europe/Paris' } }, /spec.timezone the string "Europe\/Paris" is not supported yet; schedules run in UTC/],
    ['backfill', { state: { backfill: [] } as never }, /state.backfill is not supported yet/],
    ['another action type', { action: { ...options().action, type: 'other' } as never }, /action.type must be 'startWorkflow'/],
    ['no task queue', { action: { ...options().action, taskQueue: undefined } as never }, /action.taskQueue must be a non-empty string, got undefined/],
    ['negative remainingActions', { state: { remainingActions: -1 } }, /state.remainingActions must be an integer ≥ 0, got number -1/],
    ['a workflow id too long for its suffix', { action: { ...options().action, workflowId: 'w'.repeat(990) } }, /workflowId is too long: with the scheduled time appended .* 1011 bytes, over maxIdBytes \(1000\)/],
    ['an unknown key', { spec: { intervals: [{ every: '1h' }], hourly: true } as never }, /hourly/],
  ];
  for (const [what, over, message] of bad) {
    await t.rejects(client.create(options({ scheduleId: `bad-${what}`, ...over })), message, what);
  }
  await t.rejects(service.createSchedule({ scheduleId: '', schedule: {} as never }), /createSchedule: scheduleId must be a non-empty string/);
  await t.rejects(service.pauseSchedule('a', 5 as never), /pauseSchedule: note must be a string, got number 5/);
  const listedAfter: string[] = [];
  for await (const s of client.list()) listedAfter.push(s.scheduleId);
  t.same(listedAfter, ['a', 'b', 'c'], 'nothing refused was created');
  t.throws(() => new ScheduleClient({ connection: {} as never }), /ScheduleClient: connection must be a Connection/);
});

t.test('WorkflowClient.schedule is a ScheduleClient on the same service', async (t) => {
  const { service, at } = await setup(t);
  const workflows = new WorkflowClient(service);
  t.equal(workflows.schedule, workflows.schedule, 'one per client');
  const handle = await workflows.schedule.create(options({ action: { type: 'startWorkflow', workflowType: async function job() {}, taskQueue: Q, workflowId: 'fn' } }));
  await at(T0 + HOUR);
  t.equal((await handle.describe()).raw.action.workflowType, 'job', 'a workflow function gives its name');
  t.equal((await service.describeWorkflow({ workflowId: 'fn-2024-01-01T01:00:00Z' })).status, 'running');
});

// ---- the whole flow on each store ----

async function flow(t: tap.Test, store: Store) {
  const { client, at, runs, close } = await setup(t, store);
  const handle = await client.create(options({ spec: { cronExpressions: ['0 */2 * * *'] }, policies: { overlap: 'BUFFER_ONE' } }));
  await at(T0 + 2 * HOUR);
  await at(T0 + 4 * HOUR);
  await close();
  t.same(await runs(), ['job-2024-01-01T02:00:00Z completed', 'job-2024-01-01T04:00:00Z running'], 'fired, buffered one, started it on close');
  await handle.pause('hold');
  await at(T0 + 6 * HOUR);
  await handle.unpause();
  await handle.trigger(); // buffered behind the 4 h one (BUFFER_ONE)
  await close();
  t.same(await runs(), ['job-2024-01-01T02:00:00Z completed', 'job-2024-01-01T04:00:00Z completed', 'job-2024-01-01T06:00:00Z running'], 'the triggered action started when it could');
  await close();
  await handle.update((d) => ({ ...d, state: { ...d.state, remainingActions: 1 } }));
  await at(T0 + 8 * HOUR);
  await at(T0 + 10 * HOUR);
  const d = await handle.describe();
  t.same(
    [d.info.numActionsTaken, d.info.numActionsSkippedOverlap, d.state.remainingActions, d.info.nextActionTimes.length, d.info.runningActions.length],
    [4, 0, 0, 0, 1],
    'its info after a buffer, a pause, a trigger, an update and its last action',
  );
  t.same((await runs()).slice(3), ['job-2024-01-01T08:00:00Z running'], 'no action after the last one allowed');
  await handle.delete();
  await t.rejects(handle.describe(), ScheduleNotFoundError);
}

t.test('the whole flow on the memory store', async (t) => flow(t, new MemoryStore()));
t.test('the whole flow on SQLite', async (t) => flow(t, new SqliteStore(newFile())));

t.test('a SQLite store reopened by a new service keeps firing the schedule', async (t) => {
  const file = newFile();
  {
    const clock = new ManualClock(T0);
    const service = new LocalWorkflowService({ store: new SqliteStore(file), clock });
    await new ScheduleClient({ connection: { service } }).create(options({ policies: { overlap: 'ALLOW_ALL' } }));
    clock.ms = T0 + HOUR;
    await service.tick();
    await service.close();
  }
  const { client, at, runs } = await setup(t, new SqliteStore(file), T0 + HOUR);
  t.same(await runs(), ['job-2024-01-01T01:00:00Z running'], 'what the first service did is there');
  await at(T0 + 2 * HOUR);
  t.same(await runs(), ['job-2024-01-01T01:00:00Z running', 'job-2024-01-01T02:00:00Z running'], 'the new service fires the schedule');
  const d = await client.getHandle('sched').describe();
  t.same([d.info.numActionsTaken, d.info.runningActions.length], [2, 2]);
});

// ---- the CLI ----

t.test('deja schedule: list, describe, pause, unpause, trigger, delete on a SQLite backend', async (t) => {
  const file = newFile();
  const backend = `sqlite:${file}`;
  // Created on the real clock's day with a start far ahead: the CLI's own service (real clock) finds nothing due.
  const now = Date.now();
  {
    const service = new LocalWorkflowService({ store: new SqliteStore(file), clock: new ManualClock(now) });
    const client = new ScheduleClient({ connection: { service } });
    await client.create(options({ scheduleId: 'nightly', spec: { cronExpressions: ['0 3 * * *'], startAt: new Date(now + 3650 * 24 * HOUR) } }));
    await service.close();
  }
  const cli = async (...args: string[]) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main([...args, '--backend', backend], { log: (l) => stdout.push(l), error: (l) => stderr.push(l) });
    return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  };
  let r = await cli('schedule', 'list');
  t.equal(r.code, 0);
  t.match(r.stdout, /^nightly {2}job {2}active {2}next \d{4}-\d\d-\d\dT03:00:00.000Z$/);
  r = await cli('schedule', 'pause', 'nightly', '--note', 'maintenance');
  t.same([r.code, r.stdout], [0, 'schedule nightly: paused']);
  r = await cli('schedule', 'describe', 'nightly');
  t.match(r.stdout, /^state {8}paused \(maintenance\)$/m);
  t.match(r.stdout, /^spec {9}cron "0 3 \* \* \*"$/m);
  r = await cli('schedule', 'unpause', 'nightly', '--json');
  t.same(JSON.parse(r.stdout), { scheduleId: 'nightly', done: 'unpause' });
  r = await cli('schedule', 'trigger', 'nightly', '--overlap', 'ALLOW_ALL');
  t.equal(r.code, 0);
  const d = JSON.parse((await cli('schedule', 'describe', 'nightly', '--json')).stdout);
  t.same([d.state.paused, d.info.numActionsTaken, d.policies.overlap], [false, 1, 'SKIP'], 'unpaused, triggered once');
  t.equal((await cli('schedule', 'delete', 'nightly')).code, 0);
  r = await cli('schedule', 'describe', 'nightly');
  t.equal(r.code, 3, 'an unknown schedule: not found');
  t.match(r.stderr, /^deja: schedule describe: schedule "nightly" not found; expected the id of an existing schedule/);
  r = await cli('schedule', 'trigger', 'x', '--overlap', 'SOMETIMES');
  t.same([r.code, /--overlap "SOMETIMES" is not a policy; expected one of SKIP, BUFFER_ONE/.test(r.stderr)], [2, true]);
  r = await cli('schedule', 'explode');
  t.same([r.code, /unknown action "explode"; expected one of list, describe/.test(r.stderr)], [2, true]);
  t.same((await cli('schedule', 'list')).stdout, 'no schedules');
});
