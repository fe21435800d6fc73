/**
 * Every patched global, in one place (inside the isolate only; never imported on the host).
 *
 * - Date: `new Date()` and `Date.now()` are the current workflow task's time, from history; the
 *   local time zone is UTC whatever the host's is (local-time methods are the UTC ones).
 * - Math.random, crypto.getRandomValues and crypto.randomUUID: seedrandom's Alea, seeded per run.
 * - setTimeout / clearTimeout: durable timers (commands), never host timers.
 * - WeakRef and FinalizationRegistry: throw, because garbage collection is not deterministic.
 * - console: buffered into the completion's logs; the isolate never calls the host.
 */
import { getState, maybeState } from './internals';
import { DeterminismViolationError } from './errors';
import { uuid4FromRandom } from './uuid';

const OriginalDate = Date;
const g = globalThis as Record<string, any>;

function now(): number {
  return getState('Date').now;
}

function patchDate(): void {
  const parse = (s: string): number => {
    const t = OriginalDate.parse(s);
    // A date-time string without a zone is local time in ECMAScript: local is UTC here.
    if (Number.isNaN(t) || /(Z|[+-]\d\d(:?\d\d)?|GMT|UTC)\s*$/i.test(s.trim()) || /^\d{4}(-\d\d(-\d\d)?)?$/.test(s.trim())) return t;
    return t - new OriginalDate(t).getTimezoneOffset() * 60_000;
  };
  function DejaDate(this: unknown, ...args: unknown[]): Date | string {
    if (!new.target) return new OriginalDate(now()).toString();
    let time: unknown[];
    if (args.length === 0) time = [now()];
    else if (args.length >= 2) time = [OriginalDate.UTC(...(args as [number, number]))];
    else if (typeof args[0] === 'string') time = [parse(args[0])];
    else time = args;
    return Reflect.construct(OriginalDate, time, new.target) as Date;
  }
  DejaDate.prototype = OriginalDate.prototype;
  Object.defineProperty(OriginalDate.prototype, 'constructor', { value: DejaDate, writable: true, configurable: true });
  DejaDate.now = now;
  DejaDate.UTC = OriginalDate.UTC;
  DejaDate.parse = parse;

  const proto = OriginalDate.prototype as unknown as Record<string, unknown>;
  for (const name of ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds']) {
    proto[`get${name}`] = proto[`getUTC${name}`];
    if (name !== 'Day') proto[`set${name}`] = proto[`setUTC${name}`];
  }
  proto.getTimezoneOffset = function getTimezoneOffset() {
    return 0;
  };
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const valid = (d: Date) => !Number.isNaN(d.getTime());
  const dateString = (d: Date) =>
    `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${d.getUTCFullYear() < 0 ? '-' + pad(-d.getUTCFullYear(), 6) : pad(d.getUTCFullYear(), 4)}`;
  const timeString = (d: Date) =>
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT+0000 (Coordinated Universal Time)`;
  proto.toString = function toString(this: Date) {
    return valid(this) ? `${dateString(this)} ${timeString(this)}` : 'Invalid Date';
  };
  proto.toDateString = function toDateString(this: Date) {
    return valid(this) ? dateString(this) : 'Invalid Date';
  };
  proto.toTimeString = function toTimeString(this: Date) {
    return valid(this) ? timeString(this) : 'Invalid Date';
  };
  for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) {
    const original = proto[name] as (locales?: unknown, options?: Intl.DateTimeFormatOptions) => string;
    proto[name] = function (this: Date, locales?: unknown, options?: Intl.DateTimeFormatOptions) {
      return original.call(this, locales, { timeZone: 'UTC', ...options });
    };
  }
  const OriginalDTF = Intl.DateTimeFormat;
  const DejaDTF = function DateTimeFormat(this: unknown, locales?: string | string[], options?: Intl.DateTimeFormatOptions) {
    return new OriginalDTF(locales, { timeZone: 'UTC', ...options });
  } as unknown as typeof Intl.DateTimeFormat;
  (DejaDTF as any).prototype = OriginalDTF.prototype;
  (DejaDTF as any).supportedLocalesOf = OriginalDTF.supportedLocalesOf;
  (Intl as any).DateTimeFormat = DejaDTF;
  g.Date = DejaDate;
}

function random(): number {
  return getState('Math.random').random();
}

function patchRandom(): void {
  Math.random = random;
  const crypto = {
    getRandomValues<T extends ArrayBufferView | null>(array: T): T {
      if (!ArrayBuffer.isView(array)) throw new TypeError('crypto.getRandomValues: expected an integer typed array');
      if (array.byteLength > 65536) throw new RangeError('crypto.getRandomValues: at most 65536 bytes at a time');
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      return array;
    },
    randomUUID(): string {
      return uuid4FromRandom(random);
    },
  };
  Object.defineProperty(g, 'crypto', { value: crypto, writable: true, configurable: true });
}

function patchTimers(): void {
  g.setTimeout = function setTimeout(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): number {
    if (typeof callback !== 'function') throw new TypeError('setTimeout: expected a function as the first argument');
    const delay = Number(ms ?? 0);
    const timer = getState('setTimeout').startTimer(Number.isFinite(delay) ? delay : 0, () => callback(...args));
    return timer.seq;
  };
  g.clearTimeout = function clearTimeout(handle?: number): void {
    if (typeof handle === 'number') maybeState()?.cancelTimer(handle);
  };
  g.queueMicrotask = function queueMicrotask(callback: () => void): void {
    Promise.resolve().then(callback);
  };
}

function patchGc(): void {
  for (const name of ['WeakRef', 'FinalizationRegistry']) {
    g[name] = function () {
      throw new DeterminismViolationError(`${name} cannot be used in workflows: garbage collection is not deterministic`);
    };
  }
}

function patchConsole(): void {
  const format = (args: unknown[]) =>
    args
      .map((a) => {
        if (typeof a === 'string') return a;
        if (a instanceof Error) return a.stack ?? `${a.name}: ${a.message}`;
        try {
          return JSON.stringify(a) ?? String(a);
        } catch {
          return String(a);
        }
      })
      .join(' ');
  const make = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => maybeState()?.log(level, format(args));
  g.console = { log: make('info'), info: make('info'), debug: make('debug'), warn: make('warn'), error: make('error'), trace: make('debug') };
}

/** Installs the deterministic globals once per context, before any workflow code runs. */
export function installGlobals(): void {
  patchDate();
  patchRandom();
  patchTimers();
  patchGc();
  patchConsole();
}
