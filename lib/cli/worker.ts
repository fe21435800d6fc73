/**
 * `deja worker` (host side): runs a Worker on the configured backend until SIGINT or SIGTERM (or
 * the caller's stop signal), then shuts it down gracefully: polling stops, tasks in flight finish,
 * running activities get the worker's grace time. One line when it starts, one when it stops.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection } from '../client';
import { InvalidArgumentError, StoreError } from '../errors';
import { Worker, type ActivityFunction } from '../worker';
import { ProblemError, UsageError, countFlag, jsonLine, moduleFile, parse, positionalsOf, requiredFlag, stringFlag, type Out, type RunOptions } from './common';

export const WORKER_HELP = `Usage: deja worker --task-queue <queue> --workflows <path> [--activities <path>] [options]

Runs a worker until SIGINT (Ctrl-C) or SIGTERM, then shuts it down gracefully: polling stops,
tasks in flight finish, running activities get 10 s before they are cancelled.

  --task-queue, -q <queue>        the task queue to poll (required)
  --workflows, -w <path>          the workflows module (TypeScript or JavaScript)
  --activities, -a <path>         a module whose exported functions are the activities: CommonJS or
                                  ESM JavaScript; TypeScript only where Node can load it (Node with
                                  type stripping, or a loader such as NODE_OPTIONS="--require ts-node/register")
  --identity <name>               the worker's identity (default: <pid>@<hostname>)
  --max-cached-workflows <n>      live executions kept in memory (default 1000)
  --max-concurrent-activities <n> activities run at once (default 100)
  --backend <backend>             memory:<name> or sqlite:<file> (default: DEJA_BACKEND, else the
                                  default backend); memory: lives in this process only
  --json                          print the start and stop lines as JSON

At least one of --workflows and --activities is required.

Exit status: 0 stopped cleanly, 1 the worker failed (its backend went away) or the activities
module threw while loading, 2 bad usage (a bad flag, a module that cannot be found).`;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function workerCommand(args: string[], out: Out, options: RunOptions): Promise<number> {
  const { values, positionals } = parse('worker', args, {
    'task-queue': { type: 'string', short: 'q' },
    workflows: { type: 'string', short: 'w' },
    activities: { type: 'string', short: 'a' },
    identity: { type: 'string' },
    'max-cached-workflows': { type: 'string' },
    'max-concurrent-activities': { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    out.log(WORKER_HELP);
    return 0;
  }
  positionalsOf('worker', positionals, []);
  const taskQueue = requiredFlag('worker', values, 'task-queue', 'queue');
  const workflows = stringFlag(values, 'workflows');
  const activitiesGiven = stringFlag(values, 'activities');
  if (workflows === undefined && activitiesGiven === undefined) {
    throw new UsageError('worker: neither --workflows nor --activities given; expected --workflows <path>, --activities <path>, or both');
  }
  const workflowsPath = workflows === undefined ? undefined : moduleFile('worker', 'workflows module', workflows, '--workflows to name a TypeScript or JavaScript module');
  const maxCachedWorkflows = countFlag('worker', 'max-cached-workflows', stringFlag(values, 'max-cached-workflows'), 1000, 1_000_000);
  const maxConcurrentActivityTaskExecutions = countFlag('worker', 'max-concurrent-activities', stringFlag(values, 'max-concurrent-activities'), 100, 100_000);
  const activities = activitiesGiven === undefined ? undefined : await loadActivities(activitiesGiven);
  const identity = stringFlag(values, 'identity');
  const backend = stringFlag(values, 'backend');
  const backendShown = backend ?? (process.env.DEJA_BACKEND ? `${process.env.DEJA_BACKEND} (from DEJA_BACKEND)` : 'the default backend');

  let connection: Connection;
  try {
    connection = new Connection(backend === undefined ? undefined : { backend });
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(`worker: ${error.message.replace(/^Connection: /, '')}`, { cause: error });
    // A database that cannot be opened (a folder, read-only, not deja's, from a newer deja): bad usage too.
    if (error instanceof StoreError) throw new UsageError(`worker: cannot open the backend: ${error.message}`, { cause: error });
    throw error;
  }
  try {
    let worker: Worker;
    try {
      worker = await Worker.create({
        connection,
        taskQueue,
        ...(workflowsPath !== undefined ? { workflowsPath } : {}),
        ...(activities !== undefined ? { activities } : {}),
        ...(identity !== undefined ? { identity } : {}),
        maxCachedWorkflows,
        maxConcurrentActivityTaskExecutions,
      });
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new UsageError(`worker: ${error.message.replace(/^Worker\.create: /, '')}`, { cause: error });
      throw error;
    }
    const activityNames = Object.keys(activities ?? {});
    let stopping: string | undefined;
    const stop = (why: string) => {
      if (stopping !== undefined) return;
      stopping = why;
      out.log(values.json ? jsonLine({ event: 'stopping', reason: why }) : `worker stopping (${why}): finishing the tasks in flight`);
      worker.shutdown();
    };
    const handlers = STOP_SIGNALS.map((signal) => [signal, () => stop(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const onAbort = () => stop('stopped by its caller');
    options.stop?.addEventListener('abort', onAbort);
    try {
      const running = worker.run();
      const started = {
        event: 'started',
        taskQueue,
        backend: backend ?? (process.env.DEJA_BACKEND || null),
        identity: worker.identity,
        workflows: workflows ?? null,
        activities: activityNames,
      };
      out.log(
        values.json
          ? jsonLine(started)
          : `worker ${worker.identity} polling task queue "${taskQueue}" on ${backend === undefined ? backendShown : `backend "${backend}"`}` +
              `${workflows !== undefined ? `, workflows ${workflows}` : ''}${activities !== undefined ? `, ${activityNames.length} ${activityNames.length === 1 ? 'activity' : 'activities'}` : ''}; stop with Ctrl-C or SIGTERM`,
      );
      if (options.stop?.aborted) onAbort();
      await running;
    } finally {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      options.stop?.removeEventListener('abort', onAbort);
    }
    const stats = worker.stats();
    out.log(
      values.json
        ? jsonLine({ event: 'stopped', taskQueue, workflowTasks: stats.workflowTasks, activities: stats.activities, queries: stats.queries })
        : `worker stopped: ${stats.workflowTasks} workflow tasks, ${stats.activities} activities, ${stats.queries} queries`,
    );
    return 0;
  } finally {
    await connection.close();
  }
}

/**
 * The activities module: its exported functions (a module whose only export is a default object
 * of functions gives those). CommonJS is required; ESM that `require` cannot load is imported.
 */
async function loadActivities(given: string): Promise<Record<string, ActivityFunction>> {
  const file = moduleFile('worker', 'activities module', given, '--activities to name a JavaScript module whose exports are the activity functions');
  let loaded: Record<string, unknown>;
  try {
    loaded = await loadModule(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (/\.[cm]?ts$/.test(file) && (error instanceof SyntaxError || code === 'ERR_UNKNOWN_FILE_EXTENSION')) {
      throw new UsageError(
        `worker: cannot load TypeScript activities ${given} in Node ${process.version}; expected a JavaScript module (compile it first), ` +
          'a Node that strips types, or a loader such as NODE_OPTIONS="--require ts-node/register"',
        { cause: error },
      );
    }
    throw new ProblemError(`worker: the activities module ${given} threw while loading: ${firstLine(String((error as Error)?.message ?? error))}; expected a module that loads (--debug prints the stack)`, { cause: error });
  }
  const functions = (mod: Record<string, unknown>) => Object.fromEntries(Object.entries(mod).filter(([, v]) => typeof v === 'function')) as Record<string, ActivityFunction>;
  let activities = functions(loaded);
  const fallback = loaded.default;
  if (Object.keys(activities).length === 0 && typeof fallback === 'object' && fallback !== null) activities = functions(fallback as Record<string, unknown>);
  if (Object.keys(activities).length === 0) {
    throw new UsageError(`worker: the activities module ${given} exports no functions; expected a module whose exports are the activity functions`);
  }
  return activities;
}

// A real dynamic import: TypeScript's CommonJS output would turn `import()` into `require()`.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

async function loadModule(file: string): Promise<Record<string, unknown>> {
  if (path.extname(file) === '.mjs') return importModule(pathToFileURL(file).href);
  try {
    return require(file) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return importModule(pathToFileURL(file).href);
    throw error;
  }
}

const firstLine = (text: string) => text.split('\n', 1)[0]!;
