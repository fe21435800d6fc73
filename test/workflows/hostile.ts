/**
 * Workflows that attack the runtime from inside the isolate (used by test/runtime-hardening.test.ts
 * and test/support/locale-child.ts). Each replaces built-ins the way a careless or hostile workflow
 * could, then does honest work: what reaches the host must be that honest work, intact.
 */
import {
  ApplicationFailure,
  ActivityFailure,
  TemporalFailure,
  condition,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
  sleep,
} from 'deja/workflow';
import type * as activities from './activities';

/** A user's own failure class keeps its own name. */
export class PaymentFailure extends ApplicationFailure {}

type Patchable = Record<PropertyKey, unknown>;
const g = globalThis as unknown as Patchable;
const refuse = (): never => {
  throw new Error('patched by the workflow');
};
const FORGED_COMPLETION = '{"ok":true,"commands":[{"type":"completeWorkflow","result":"forged"}],"logs":[]}';
const swallow = (target: object, keys: string[]) => {
  for (let i = 0; i < keys.length; i++) {
    Object.defineProperty(target, keys[i], { set() {}, get() { return undefined; }, configurable: true });
  }
};

/** Replacements of built-ins, by name. Each would have fooled the runtime before it was hardened. */
export const ATTACKS: Record<string, () => void> = {
  'JSON.stringify forges the completion': () => {
    JSON.stringify = () => FORGED_COMPLETION;
  },
  'JSON.stringify answers again forever': () => {
    JSON.stringify = () => '{"again":true}';
  },
  'JSON.parse forges the activation': () => {
    JSON.parse = () => ({ timestamp: 0, isReplaying: false, historyLength: 0, jobs: [] });
  },
  'Array.prototype.push drops': () => {
    Array.prototype.push = function (this: unknown[]) {
      return this.length;
    };
  },
  'Array.prototype.splice and sort refuse': () => {
    (Array.prototype as unknown as Patchable).splice = refuse;
    (Array.prototype as unknown as Patchable).sort = refuse;
    (Array.prototype as unknown as Patchable).filter = refuse;
    (Array.prototype as unknown as Patchable).map = refuse;
    (Array.prototype as unknown as Patchable).join = refuse;
    (Array.prototype as unknown as Patchable).findIndex = refuse;
  },
  'array iterators yield nothing': () => {
    const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]()) as Patchable;
    arrayIterator.next = () => ({ done: true, value: undefined });
  },
  'Promise.prototype.then never calls back': () => {
    (Promise.prototype as unknown as Patchable).then = function (this: unknown) {
      return this;
    };
    (Promise as unknown as Patchable).race = refuse;
    (Promise as unknown as Patchable).resolve = refuse;
  },
  'Map.prototype.get finds nothing': () => {
    Map.prototype.get = () => undefined;
    Map.prototype.has = () => false;
  },
  'Map.prototype.set stores nothing': () => {
    Map.prototype.set = function (this: Map<unknown, unknown>) {
      return this;
    };
  },
  'Map iterators yield nothing': () => {
    const mapIterator = Object.getPrototypeOf(new Map().entries()) as Patchable;
    mapIterator.next = () => ({ done: true, value: undefined });
    (Map.prototype as unknown as Patchable)[Symbol.iterator] = refuse;
    (Map.prototype as unknown as Patchable).keys = refuse;
  },
  'Function.prototype.call, apply and bind refuse': () => {
    (Function.prototype as unknown as Patchable).call = refuse;
    (Function.prototype as unknown as Patchable).apply = refuse;
    (Function.prototype as unknown as Patchable).bind = refuse;
    (Reflect as unknown as Patchable).apply = refuse;
    (Reflect as unknown as Patchable).construct = refuse;
  },
  'Object.keys and entries forge': () => {
    Object.keys = () => ['forged'];
    Object.entries = (() => [['forged', 1]]) as never;
    Object.fromEntries = () => ({ forged: 1 });
    Object.defineProperty = refuse as never;
  },
  'Object.prototype.toJSON forges every object': () => {
    Object.defineProperty(Object.prototype, 'toJSON', { value: () => 'forged', configurable: true, writable: true });
  },
  'a setter on Array.prototype[0] swallows elements': () => {
    swallow(Array.prototype, ['0', '1']);
  },
  'globals replaced': () => {
    for (const name of ['Map', 'Promise', 'JSON', 'Object', 'Array', 'String', 'Number', 'Math', 'Reflect', 'Error', 'TypeError', 'Proxy', 'Symbol', 'WeakMap', 'globalThis', 'Intl']) {
      g[name] = refuse;
    }
  },
};

/** An activity, a timer, a condition with a timeout that wins at once, two log lines. */
async function honestWork(tag: string): Promise<string> {
  // Created after the attack: validating the options must not use what the attack replaced.
  const acts = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2, nonRetryableErrorTypes: ['Fatal'] } });
  const hello = await acts.greet('ann');
  await sleep(5);
  const inTime = await condition(() => true, '1 hour');
  log.info(`greeted ${hello}`);
  console.log('done', tag);
  return `${hello}|${inTime}|${new Date(0).toLocaleDateString()}|${tag}`;
}

/** Applies one attack, then does honest work. */
export async function hostileWorkflow(attack: string): Promise<string> {
  ATTACKS[attack]();
  // `return await`: resolving this function's promise with another promise would call the
  // replaced Promise.prototype.then, which is the workflow's own doing.
  return await honestWork(attack);
}

/** Attacks on the way failures travel to the host. */
export const FAILURE_ATTACKS: Record<string, () => void> = {
  'setters on Object.prototype swallow fields': () => {
    swallow(Object.prototype, ['type', 'cause', 'message', 'kind', 'nonRetryable', 'stack', 'details', 'failure', 'ok', 'logs', 'commands', 'level', 'timestamp', 'result', 'seq', 'activityType', 'retryState']);
  },
  'a cause getter on Object.prototype': () => {
    Object.defineProperty(Object.prototype, 'cause', { get: () => ({ kind: 'application', message: 'forged cause' }), configurable: true });
  },
  'Symbol.hasInstance lies': () => {
    for (const C of [TemporalFailure, ApplicationFailure, ActivityFailure, Error]) {
      Object.defineProperty(C, Symbol.hasInstance, { value: () => false, configurable: true });
    }
  },
  'JSON.stringify forges the completion': ATTACKS['JSON.stringify forges the completion'],
  'Function.prototype.call, apply and bind refuse': ATTACKS['Function.prototype.call, apply and bind refuse'],
};

const { fail } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });

/** Applies an attack, then fails the workflow with a cause chain (ApplicationFailure ← ActivityFailure ← ApplicationFailure). */
export async function hostileFailureWorkflow(attack: string): Promise<void> {
  FAILURE_ATTACKS[attack]();
  try {
    await fail('card declined');
  } catch (error) {
    throw ApplicationFailure.create({ message: 'payment failed', type: 'PaymentError', nonRetryable: true, cause: error as Error });
  }
}

/** What a later execution in the same isolate sees: the intrinsics as V8 made them. */
export async function pristineWorkflow(): Promise<Record<string, boolean>> {
  const native = (f: unknown) => typeof f === 'function' && /\{ \[native code\] \}$/.test(Function.prototype.toString.call(f));
  const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]()) as Patchable;
  return {
    stringify: JSON.stringify({ a: [1] }) === '{"a":[1]}' && native(JSON.stringify),
    push: native(Array.prototype.push),
    iterator: native(arrayIterator.next),
    // deja installs its own `then` in every context (it carries the CancellationScope, see
    // runtime/async-context.ts): this context's must be that one, not a polluter's.
    then: native(Promise.prototype.then) || (Promise.prototype.then as unknown as Patchable)[Symbol.for('deja.contextThen')] === true,
    mapGet: native(Map.prototype.get),
    call: native(Function.prototype.call),
    keys: native(Object.keys),
    toJSON: !('toJSON' in Object.prototype),
    index: Object.getOwnPropertyDescriptor(Array.prototype, '0') === undefined,
    hasInstance: !Object.prototype.hasOwnProperty.call(Error, Symbol.hasInstance),
  };
}

// ── the fixed time zone and locale ─────────────────────────────────────────────────────────────────

/** 2020-01-02T03:04:05.006Z, a Thursday. */
export const PROBE_TIME = Date.UTC(2020, 0, 2, 3, 4, 5, 6);

/** Every date, Intl and locale API whose default depends on the host's TZ or LANG, and its output. */
export function localeProbe(): Record<string, unknown> {
  const d = new Date(PROBE_TIME);
  const y = new Date(0) as Date & { setYear(year: number): number; getYear(): number };
  y.setYear(99);
  const out: Record<string, unknown> = {
    isoLocal: new Date('2020-01-01T10:00:00').toISOString(),
    isoLocalMinutes: Date.parse('2020-01-01T10:00'),
    isoLocalLowercaseT: Date.parse('2020-01-01t10:00:00.5'),
    isoZoned: Date.parse('2020-01-01T10:00:00+02:00'),
    isoDateOnly: Date.parse('2020-01-01'),
    legacySpace: Date.parse('2020-01-01 10:00'),
    legacySlash: Date.parse('2020/01/02 03:04'),
    legacyUs: Date.parse('1/2/2020'),
    legacyWords: new Date('Jan 2 2020 10:00').toISOString(),
    legacyZoned: Date.parse('Thu Jan 02 2020 10:00:00 GMT+0900 (Japan Standard Time)'),
    legacyOffset: Date.parse('Jan 2 2020 10:00 -0500'),
    legacyEst: Date.parse('Jan 2 2020 10:00 EST'),
    legacyComment: Date.parse('Jan 2 2020 10:00 (a comment'),
    constructorString: new Date(new String('2020-01-01T10:00:00') as unknown as string).toISOString(),
    components: new Date(2020, 0, 2, 3, 4, 5).toISOString(),
    getYear: (d as typeof y).getYear(),
    setYear: y.toISOString(),
    getHours: d.getHours(),
    offset: d.getTimezoneOffset(),
    string: String(d),
    dateString: d.toDateString(),
    timeString: d.toTimeString(),
    dateCalledAsFunction: Date(),
    toLocaleString: d.toLocaleString(),
    toLocaleDateString: d.toLocaleDateString(),
    toLocaleTimeString: d.toLocaleTimeString(),
    toLocaleStringZoneUndefined: d.toLocaleString(undefined, { timeZone: undefined }),
    toLocaleStringTokyo: d.toLocaleString('en-US', { timeZone: 'Asia/Tokyo' }),
    toLocaleStringGerman: d.toLocaleString('de-DE'),
    dtfResolved: new Intl.DateTimeFormat().resolvedOptions(),
    dtfCalled: Intl.DateTimeFormat().resolvedOptions().locale,
    dtfZoneUndefined: new Intl.DateTimeFormat('en-US', { timeZone: undefined, hour: 'numeric', minute: 'numeric' }).format(d),
    dtfEmptyLocales: new Intl.DateTimeFormat([]).resolvedOptions().locale,
    dtfUnknownLocale: new Intl.DateTimeFormat('zz').resolvedOptions().locale,
    dtfNow: new Intl.DateTimeFormat('en-US', { dateStyle: 'full', timeStyle: 'long' }).format(),
    dtfNowParts: new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: 'numeric', second: 'numeric', hour12: false }).formatToParts().map((p) => p.value).join(''),
    dtfRange: new Intl.DateTimeFormat().formatRange(d, new Date(PROBE_TIME + 86_400_000)),
    dtfConstructor: Intl.DateTimeFormat.prototype.constructor === Intl.DateTimeFormat,
    dtfInstanceof: new Intl.DateTimeFormat() instanceof Intl.DateTimeFormat,
    dtfShape: [Intl.DateTimeFormat.name, Intl.DateTimeFormat.length, typeof Intl.DateTimeFormat.supportedLocalesOf],
    dateShape: [Date.name, Date.length, Date.prototype.constructor === Date, d instanceof Date],
    numberFormat: new Intl.NumberFormat().format(1234567.891),
    numberFormatLocale: new Intl.NumberFormat().resolvedOptions().locale,
    numberToLocale: (1234567.891).toLocaleString(),
    bigintToLocale: (1234567n).toLocaleString(),
    arrayToLocale: [1234.5, d].toLocaleString(),
    typedArrayToLocale: new Float64Array([1234.5, 6789.25]).toLocaleString(),
    collator: new Intl.Collator().resolvedOptions().locale,
    collatorCompare: ['b', 'a', 'ä', 'z'].sort(new Intl.Collator().compare).join(''),
    localeCompare: ['b', 'a', 'ä', 'z'].sort((a, b) => a.localeCompare(b)).join(''),
    upper: 'iı'.toLocaleUpperCase(),
    lower: 'Iİ'.toLocaleLowerCase(),
    pluralRules: new Intl.PluralRules().resolvedOptions().locale,
    relativeTime: new Intl.RelativeTimeFormat().format(-1, 'day'),
    listFormat: new Intl.ListFormat().format(['a', 'b', 'c']),
    displayNames: new Intl.DisplayNames(undefined, { type: 'region' }).of('DE'),
    segmenter: new Intl.Segmenter().resolvedOptions().locale,
    // formatRange needs both dates: it never falls back to "now".
    dtfRangeWithoutDates: (() => {
      try {
        return (new Intl.DateTimeFormat().formatRange as (...a: unknown[]) => string)();
      } catch (error) {
        return (error as Error).name;
      }
    })(),
    // Each replaced constructor: name, length, prototype.constructor, instanceof, subclassing.
    intlShapes: (['Collator', 'DateTimeFormat', 'DisplayNames', 'ListFormat', 'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'Segmenter'] as const).map((name) => {
      const C = (Intl as unknown as Record<string, new (locales?: string, options?: object) => object>)[name];
      const options = name === 'DisplayNames' ? { type: 'region' } : undefined;
      const Sub = class extends C {};
      return [C.name, C.length, C.prototype.constructor === C, new C(undefined, options) instanceof C, new Sub(undefined, options) instanceof C];
    }),
  };
  return out;
}

/** A 32-bit FNV-1a hash, to turn the probe into an activity id. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

/**
 * Calls every locale-dependent API and returns the outputs. The outputs also name an activity's
 * id, so a leak of the host's zone or locale changes the commands, and replay on another machine
 * fails with nondeterminism.
 */
export async function localeWorkflow(): Promise<Record<string, unknown>> {
  const probe = localeProbe();
  const { echo } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', activityId: `probe-${hash(JSON.stringify(probe))}` });
  await echo('probe');
  return probe;
}

// ── what would escape the isolate's limits ─────────────────────────────────────────────────────────

export async function outOfHeapWorkflow(kind: string): Promise<string> {
  const G = globalThis as unknown as Patchable;
  switch (kind) {
    case 'WebAssembly.Memory':
      new (G.WebAssembly as { Memory: new (d: object) => unknown }).Memory({ initial: 1, maximum: 65536 });
      break;
    case 'WebAssembly.instantiate':
      await (G.WebAssembly as { instantiate: (b: Uint8Array) => Promise<unknown> }).instantiate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      break;
    case 'resizable ArrayBuffer':
      new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(1, { maxByteLength: 1e9 });
      break;
    case 'growable SharedArrayBuffer':
      new (SharedArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(1, { maxByteLength: 1e9 });
      break;
    case 'Atomics.waitAsync':
      (Atomics as unknown as { waitAsync: (...a: unknown[]) => unknown }).waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      break;
  }
  return `${kind} was allowed`;
}

/** What still works: plain buffers, Atomics.wait on shared memory (it times out at once). */
export async function buffersWorkflow(): Promise<unknown> {
  const shared = new Int32Array(new SharedArrayBuffer(16));
  return {
    plain: new ArrayBuffer(8).byteLength,
    typed: new Uint8Array(4).buffer instanceof ArrayBuffer,
    sliced: new ArrayBuffer(8).slice(2).byteLength,
    shared: shared.length,
    notEqual: Atomics.wait(shared, 0, 1, 0),
    timedOut: Atomics.wait(shared, 0, 0, 0),
    subclass: new (class Buffer extends ArrayBuffer {})(4) instanceof ArrayBuffer,
    wasmType: typeof (globalThis as unknown as Patchable).WebAssembly,
  };
}

// ── log volume ─────────────────────────────────────────────────────────────────────────────────────

/** Logs `count` lines of `width` characters (console and log alternating), then one of `last`. */
export async function chattyWorkflow(count: number, width: number, last = 0): Promise<number> {
  const line = 'x'.repeat(width);
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) console.log(line);
    else log.info(line);
  }
  if (last > 0) console.warn('é'.repeat(last));
  console.log({ toJSON() { throw new Error('no JSON'); }, toString() { throw new Error('no text'); } });
  return count;
}

/** Logs in two activations: the limits are per activation. */
export async function chattyTwiceWorkflow(count: number): Promise<void> {
  for (let i = 0; i < count; i++) log.info(`first ${i}`);
  await sleep(1);
  for (let i = 0; i < count; i++) log.info(`second ${i}`);
}

// ── failure names and failure conversion ───────────────────────────────────────────────────────────

export async function failureNamesWorkflow(): Promise<unknown> {
  let caught: unknown;
  try {
    await fail('no');
  } catch (error) {
    caught = error;
  }
  const a = ApplicationFailure.create({ message: 'm' });
  return {
    instance: a.name,
    class: ApplicationFailure.name,
    stack: (a.stack ?? '').split('\n')[0],
    activity: (caught as Error).name,
    activityCause: ((caught as Error).cause as Error).name,
    temporal: TemporalFailure.name,
    subclass: new PaymentFailure('x').name,
    instanceofActivity: caught instanceof ActivityFailure,
    instanceofApplication: (caught as Error).cause instanceof ApplicationFailure,
  };
}

/** Throws something that is hard to read, in a fresh activation. */
export async function badThrowWorkflow(kind: string): Promise<void> {
  await sleep(1);
  switch (kind) {
    case 'throwing getters': {
      const e = new Error('hidden');
      for (const key of ['message', 'name', 'stack', 'cause']) {
        Object.defineProperty(e, key, { get: () => { throw new Error(`no ${key}`); } });
      }
      throw e;
    }
    case 'a Proxy': {
      const trap = () => { throw new Error('trap'); };
      throw new Proxy(new Error('proxied'), { get: trap, has: trap, getPrototypeOf: trap, getOwnPropertyDescriptor: trap, ownKeys: trap });
    }
    case 'a revoked Proxy': {
      const { proxy, revoke } = Proxy.revocable(new Error('revoked'), {});
      revoke();
      throw proxy;
    }
    case 'prepareStackTrace returns an object':
      (Error as unknown as Patchable).prepareStackTrace = () => ({ not: 'a string' });
      throw new TypeError('odd stack');
    case 'prepareStackTrace throws':
      (Error as unknown as Patchable).prepareStackTrace = () => {
        throw new Error('no stack for you');
      };
      throw new RangeError('no stack');
    case 'a cause cycle': {
      const e = new Error('loop') as Error & { cause?: unknown };
      e.cause = e;
      throw e;
    }
    case 'non-string fields': {
      const e = new Error('x') as unknown as Patchable;
      Object.defineProperty(e, 'message', { value: { an: 'object' } });
      Object.defineProperty(e, 'name', { value: 42 });
      throw e;
    }
    case 'an object without prototype':
      throw Object.create(null);
    case 'a symbol':
      throw Symbol('s');
  }
}

/** Completes with a result that cannot be serialized. */
export async function badResultWorkflow(kind: string): Promise<unknown> {
  switch (kind) {
    case 'a BigInt':
      return { n: 1n };
    case 'a throwing toJSON':
      return { toJSON: () => { throw new Error('toJSON refused'); } };
    case 'a cycle': {
      const o: Patchable = {};
      o.self = o;
      return o;
    }
    case 'a failure with BigInt details':
      throw ApplicationFailure.create({ message: 'bad details', details: [1n] });
    case 'a toJSON that throws a failure with BigInt details':
      return { toJSON: () => { throw ApplicationFailure.create({ message: 'worse', details: [2n] }); } };
  }
  return 'fine';
}

/** Conditions that hold at once, for ever: every round of conclude resolves one more. */
export async function conditionLoopWorkflow(): Promise<void> {
  for (;;) await condition(() => true);
}

// ── entry points and sloppy callers ────────────────────────────────────────────────────────────────

/** Tries to call, replace and remove the host's entry points from workflow code. */
export async function reentryWorkflow(): Promise<unknown> {
  const G = globalThis as unknown as Record<string, unknown>;
  const entryPoints = ['__dejaInit', '__dejaActivate', '__dejaConclude', '__dejaQuery', '__dejaProtocolVersion'];
  const before = entryPoints.map((name) => G[name]);
  const attempt = (fn: () => unknown) => {
    try {
      return `returned ${String(fn())}`;
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  const out = {
    conclude: attempt(() => (G.__dejaConclude as () => string)()),
    activate: attempt(() => (G.__dejaActivate as (j: string) => void)('{"timestamp":0,"isReplaying":false,"historyLength":0,"jobs":[]}')),
    // Quietly ignored in sloppy code, a TypeError in strict code: either way nothing changes.
    replace: attempt(() => (G.__dejaConclude = () => '{"again":true}')),
    remove: attempt(() => delete G.__dejaActivate),
    redefine: attempt(() => Object.defineProperty(G, '__dejaQuery', { value: () => 'x' })),
    intact: false,
  };
  out.intact = entryPoints.every((name, i) => G[name] === before[i] && before[i] !== undefined);
  await sleep(1);
  return out;
}

/**
 * Sloppy functions (made by `Function`, as any library may) as the workflow's handlers, callback
 * and getters. Each records what `fn.caller` shows of whoever called it: a sloppy runtime function
 * would show itself, and through its `arguments` the runtime's state.
 */
export const probeSignal = defineSignal('probe');
export const probeQuery = defineQuery<string[]>('probe');
export async function callerWorkflow(): Promise<string[]> {
  const seen: string[] = [];
  const sloppy = (label: string, result: unknown = true) =>
    new Function(
      'seen',
      'label',
      'result',
      `return function probe() { var c = probe.caller; seen.push(label + ': ' + (c === null || c === undefined ? 'hidden' : 'exposed ' + (c.name || 'anonymous'))); return result; };`,
    )(seen, label, result) as () => unknown;
  setHandler(probeSignal, sloppy('signal handler') as () => void);
  setHandler(probeQuery, sloppy('query handler', seen) as () => string[]);
  setTimeout(sloppy('timer callback'), 1);
  queueMicrotask(sloppy('microtask') as () => void);
  await condition(sloppy('condition') as () => boolean);
  new Date({ valueOf: sloppy('valueOf', 0) } as unknown as number);
  // The time zone is read by the runtime's options Proxy, hour12 by Intl itself.
  new Intl.DateTimeFormat('en-US', Object.defineProperty({}, 'timeZone', { get: sloppy('options getter', 'UTC') }));
  new Intl.DateTimeFormat('en-US', Object.defineProperty({}, 'hour12', { get: sloppy('options getter, hour12') }));
  const e = new Error('x');
  Object.defineProperty(e, 'stack', { get: sloppy('error getter', 'a stack') });
  console.log(e, { toJSON: sloppy('toJSON') });
  await sleep(1);
  return seen;
}
