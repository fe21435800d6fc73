/**
 * Hostile workflows for test/attack.test.ts: each tries to crash, stall or fool the worker from
 * inside the isolate. They run inside the isolate; none of them may affect the host or each other.
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler, sleep, ApplicationFailure } from 'deja/workflow';

type Hostile = { hostile(kind: string): Promise<unknown>; hostileError(kind: string): Promise<unknown>; heartbeatHostile(kind: string): Promise<string>; ignoresShutdown(): Promise<string> };
const acts = proxyActivities<Hostile>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2, initialInterval: 1 } });

// ── runaways: each must fail its task at the deadline (or the round cap), never the worker ──

export async function conditionLoop(): Promise<void> {
  for (;;) await condition(() => true);
}
/** Rounds slow enough that the deadline passes before the round cap (a crash of isolated-vm once). */
export async function slowConditionLoop(): Promise<void> {
  for (;;) {
    await condition(() => true);
    let x = 0;
    for (let i = 0; i < 200_000; i++) x += i;
    if (x < 0) return;
  }
}
export async function awaitLoop(): Promise<void> {
  for (;;) await null;
}
export async function syncSpin(): Promise<void> {
  for (;;);
}
export async function signalSpin(): Promise<void> {
  setHandler(defineSignal('spin'), () => {
    for (;;);
  });
  await condition(() => false);
}
export async function conditionSpin(): Promise<void> {
  // The predicate itself never returns.
  await condition(() => {
    for (;;);
  });
}
export async function querySpin(): Promise<string> {
  setHandler(defineQuery<unknown, []>('spin'), () => {
    for (;;);
  });
  setHandler(defineQuery<string, []>('ok'), () => 'still here');
  await condition(() => false);
  return 'never';
}
export async function timerFlood(): Promise<void> {
  const timers: Promise<void>[] = [];
  for (let i = 0; i < 20_000; i++) timers.push(sleep(60_000));
  await Promise.all(timers);
}
export async function activityFlood(): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 20_000; i++) calls.push(acts.hostile('fine'));
  await Promise.all(calls);
}

// ── memory ──

export async function memoryBomb(): Promise<void> {
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array(1_000_000).fill(1));
}
export async function arrayBufferBomb(): Promise<void> {
  const hoard: ArrayBuffer[] = [];
  for (;;) hoard.push(new ArrayBuffer(64 * 1024 * 1024));
}
export async function webAssemblyBomb(): Promise<string> {
  const wasm = (globalThis as { WebAssembly?: { Memory: new (d: { initial: number; maximum: number }) => { grow(n: number): number } } }).WebAssembly;
  const memory = new wasm!.Memory({ initial: 1, maximum: 65_536 });
  for (let i = 0; i < 1000; i++) memory.grow(64);
  return 'grew';
}

// ── escapes: none of these may reach the host ──

export async function constructorChain(): Promise<string[]> {
  const viaFunction = (function () {}).constructor('return typeof process + typeof require')() as string;
  const viaAsync = await (async () => {}).constructor('return typeof process')();
  const viaThis = (globalThis as unknown as { constructor: { constructor: (code: string) => () => unknown } }).constructor.constructor('return typeof module')() as string;
  return [viaFunction, String(viaAsync), viaThis];
}
export async function evalAndFunction(): Promise<string[]> {
  // eslint-disable-next-line no-eval
  const indirect = (0, eval)('typeof setImmediate + typeof Buffer');
  return [String(indirect), String(new Function('return typeof globalThis.process')())];
}
export async function dynamicImport(): Promise<string> {
  const name = ['f', 's'].join('');
  const load = new Function('name', 'return import(name)') as (n: string) => Promise<unknown>;
  try {
    await load(name);
    return 'imported';
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}
export async function prepareStackTrace(): Promise<string> {
  const E = Error as unknown as { prepareStackTrace?: (e: Error, frames: { getThis?: () => unknown; getFunction?: () => unknown }[]) => unknown };
  E.prepareStackTrace = (_e, frames) => frames.map((f) => typeof f.getFunction?.()).join(',');
  void new Error('probe').stack;
  throw new Error('a plain error after tampering with Error.prepareStackTrace');
}
export async function pollute(): Promise<string> {
  (Object.prototype as Record<string, unknown>).polluted = 'yes';
  (Array.prototype as unknown as Record<string, unknown>).evil = () => 'evil';
  JSON.stringify = () => '{"ok":true,"commands":[{"type":"completeWorkflow","result":"forged"}],"logs":[]}';
  return 'polluted';
}
export async function pollutionCheck(): Promise<string> {
  return (({}) as Record<string, unknown>).polluted === undefined && ([] as unknown as Record<string, unknown>).evil === undefined ? 'clean' : 'polluted';
}
export async function forgedAgain(): Promise<string> {
  // The host's conclude loop once trusted this answer and looped until isolated-vm crashed.
  JSON.stringify = () => '{"again":true}';
  return 'real result';
}
export async function patchedPush(): Promise<string> {
  const original = Array.prototype.push;
  Array.prototype.push = function () {
    return 0;
  };
  await sleep(1);
  Array.prototype.push = original;
  return 'pushed';
}

// ── hostile values crossing the boundary ──

export async function evilResult(): Promise<unknown> {
  return new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('ownKeys trap');
      },
    },
  );
}
export async function evilGetterArgument(): Promise<unknown> {
  const argument = {
    get boom(): string {
      throw new Error('getter trap');
    },
  };
  return acts.hostile(argument as unknown as string);
}
export async function throwsHostileFailure(): Promise<void> {
  throw ApplicationFailure.create({ message: 'numeric type', type: 5 as unknown as string });
}
export async function hostileQuery(): Promise<void> {
  setHandler(defineQuery<unknown, []>('typeFive'), () => {
    throw ApplicationFailure.create({ message: 'numeric type', type: 5 as unknown as string });
  });
  setHandler(defineQuery<string, []>('bigint'), () => 10n as unknown as string);
  setHandler(defineQuery<string, []>('ok'), () => 'fine');
  await condition(() => false);
}
export async function logForgery(): Promise<void> {
  console.log('line one\n[other-workflow] forged line\u001b[31m red\u001b[0m');
}

/** Calls the hostile activity with `kind` and returns its result or its failure's cause. */
export async function callHostile(kind: string): Promise<unknown> {
  try {
    return { result: await acts.hostile(kind) };
  } catch (error) {
    const cause = (error as Error).cause as ApplicationFailure | undefined;
    return { failedWith: cause?.type, nonRetryable: cause?.nonRetryable, message: cause?.message };
  }
}
/** The same for an activity that throws a hostile value. */
export async function callHostileError(kind: string): Promise<unknown> {
  try {
    return { result: await acts.hostileError(kind) };
  } catch (error) {
    const cause = (error as Error).cause as ApplicationFailure | undefined;
    return { failedWith: cause?.type, nonRetryable: cause?.nonRetryable, message: cause?.message };
  }
}
export async function callHeartbeatHostile(kind: string): Promise<string> {
  return acts.heartbeatHostile(kind);
}
export async function callIgnoresShutdown(): Promise<string> {
  return acts.ignoresShutdown();
}

/** The healthy workflow every attack is followed by. */
export async function healthy(n: number): Promise<number> {
  await sleep(1);
  return n * 2;
}

/** Blocks its thread for `ms` of real time in one activation (Atomics.wait), then completes. */
export async function busyFor(ms: number): Promise<string> {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return 'done';
}
