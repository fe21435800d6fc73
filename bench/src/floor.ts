/**
 * The baselines deja is measured against (host side).
 *
 * - The replay floor: deja's own runtime bundle, the same one the isolate runs, in a `node:vm`
 *   context of this process instead of an isolated-vm isolate, behind the same protocol entry
 *   points (`__dejaInit`, `__dejaActivate`, `__dejaConclude`) and driven by deja's own
 *   ReplayMachine. The context uses `microtaskMode: 'afterEvaluate'`, so each call drains the
 *   context's microtasks before it returns, exactly as a call into isolated-vm does. What differs
 *   from deja is the isolate boundary and nothing else: the JSON in and out, the runtime, the
 *   workflow code and the replay engine are the same.
 * - The pure floor: the workload as plain async functions of this process, fed the results the
 *   history recorded, with no activations, no commands and no checks. It is what the logic itself
 *   costs.
 */
import * as vm from 'node:vm';
import type { Activation, ActivationCompletion, ActivationRunner, History, InitMessage, WorkflowBundle } from './deja';
import { ENTRY_POINTS, PROTOCOL_VERSION } from './deja';

const IN = '__benchIn';
const INIT = new vm.Script(`${ENTRY_POINTS.init}(${IN})`);
const ACTIVATE = new vm.Script(`${ENTRY_POINTS.activate}(${IN})`);
const CONCLUDE = new vm.Script(`${ENTRY_POINTS.conclude}()`);
const VERSION = new vm.Script(ENTRY_POINTS.protocolVersion);

/** The floor's counterpart of an IsolatePool: the bundle compiled once, a context per execution. */
export class VmFloor {
  private readonly script: vm.Script;
  constructor(bundle: Pick<WorkflowBundle, 'code' | 'hash'>) {
    this.script = new vm.Script(bundle.code, { filename: `floor-${bundle.hash.slice(0, 12)}.js` });
  }

  createExecution(init: InitMessage): VmExecution {
    return new VmExecution(this.script, init);
  }
}

export class VmExecution implements ActivationRunner {
  private context: vm.Context | undefined;

  constructor(script: vm.Script, init: InitMessage) {
    const context = vm.createContext({}, { microtaskMode: 'afterEvaluate', codeGeneration: { strings: false, wasm: false } });
    script.runInContext(context);
    const version = VERSION.runInContext(context);
    if (version !== PROTOCOL_VERSION) throw new Error(`floor: the bundle speaks protocol ${version}, this host ${PROTOCOL_VERSION}`);
    context[IN] = JSON.stringify(init);
    const result = JSON.parse(INIT.runInContext(context) as string) as { ok: boolean; failure?: { message: string } };
    if (!result.ok) throw new Error(`floor: loading the workflows failed: ${result.failure?.message}`);
    this.context = context;
  }

  activate(activation: Activation): ActivationCompletion {
    const context = this.context;
    if (context === undefined) throw new Error('floor: execution disposed');
    context[IN] = JSON.stringify(activation);
    ACTIVATE.runInContext(context);
    for (;;) {
      const result = JSON.parse(CONCLUDE.runInContext(context) as string) as ActivationCompletion | { again: true };
      if (!('again' in result)) {
        // As deja's sandbox hands it on: an empty list of sink calls is left out.
        if (result.sinkCalls !== undefined && result.sinkCalls.length === 0) delete result.sinkCalls;
        return result;
      }
    }
  }

  dispose(): void {
    this.context = undefined;
  }
}

// ── the pure floor ─────────────────────────────────────────────────────────────────────────────

/** What the workload's awaits resolve to, read from a recorded history. */
interface Feed {
  results: unknown[];
  signals: unknown[][];
}

function feedOf(history: History): Feed {
  const feed: Feed = { results: [], signals: [] };
  for (const e of history.events) {
    if (e.type === 'activityTaskCompleted') feed.results.push(e.result);
    else if (e.type === 'workflowExecutionSignaled') feed.signals.push(e.input);
  }
  return feed;
}

async function seqActivities(n: number, feed: Feed): Promise<number> {
  let k = 0;
  const step = async (_i: number) => feed.results[k++] as number;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await step(i);
  return sum;
}

async function timerLoop(n: number): Promise<number> {
  const sleep = async (_d: string) => undefined;
  for (let i = 0; i < n; i++) await sleep('1s');
  return n;
}

async function signalLoop(n: number, feed: Feed): Promise<number> {
  let sum = 0;
  // Each signal is one await, as each arrives in its own workflow task.
  const next = async (i: number) => feed.signals[i][0] as number;
  for (let i = 0; i < n; i++) sum += await next(i);
  return sum;
}

const PLAIN: Record<string, (n: number, feed: Feed) => Promise<number>> = { seqActivities, timerLoop, signalLoop };

/** Runs the workload of `history` as a plain async function; returns its result. */
export function runPlain(history: History): Promise<number> {
  const start = history.events[0];
  if (start.type !== 'workflowExecutionStarted') throw new Error('runPlain: no start event');
  return PLAIN[start.workflowType](start.input[0] as number, feedOf(history));
}
