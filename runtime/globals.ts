/**
 * Every patched global, in one place (inside the isolate only; never imported on the host).
 * `installGlobals` runs when the bundle loads, before any workflow code.
 *
 * - Date: `new Date()`, `Date()` and `Date.now()` are the current workflow task's time, from
 *   history. The time zone is WORKFLOW_TIME_ZONE: local-time methods are the UTC ones, and a
 *   date-time string without a zone is read as UTC.
 * - Intl and every `toLocale*` / `localeCompare`: WORKFLOW_LOCALE and WORKFLOW_TIME_ZONE unless the
 *   workflow names others; an Intl.DateTimeFormat formats the workflow's time when given no date.
 * - Math.random, crypto.getRandomValues and crypto.randomUUID: seedrandom's Alea, seeded per run
 *   (and re-seeded by an updateRandomSeed job); randomUUID draws as uuid4 does.
 * - setTimeout / clearTimeout: durable timers (commands), never host timers.
 * - WeakRef and FinalizationRegistry: throw, because garbage collection is not deterministic.
 * - console: buffered into the completion's logs; the isolate never calls the host.
 * - WebAssembly, resizable ArrayBuffers and Atomics.waitAsync: refused (see refuseOutOfHeapMemory
 *   and refuseHostTimers).
 * - Promise.prototype.then: runs its callbacks in the CancellationScope current when they were
 *   registered; and the bundle's async functions get their driver (see async-context.ts).
 *
 * The replacements keep the originals' `name`, `length`, `prototype`, `prototype.constructor` and
 * `instanceof` behaviour, and never hand out an original constructor (which would read the host's
 * clock, zone or locale).
 */
import { getState, maybeState } from './internals';
import { runAsync, thenInContext } from './async-context';
import { DeterminismViolationError } from './errors';
import { describeLogValues } from './format';
import { uuid4FromRandom } from './uuid';
import {
  ArrayBufferIsView,
  DateConstructor,
  DateParse,
  DatePrototype,
  DatePrototypeGetTime,
  DatePrototypeGetTimezoneOffset,
  DatePrototypeGetUTCDate,
  DatePrototypeGetUTCDay,
  DatePrototypeGetUTCFullYear,
  DatePrototypeGetUTCHours,
  DatePrototypeGetUTCMinutes,
  DatePrototypeGetUTCMonth,
  DatePrototypeGetUTCSeconds,
  DatePrototypeSetTime,
  DatePrototypeSetUTCFullYear,
  DateUTC,
  IntlGetCanonicalLocales,
  MathFloor,
  MathTrunc,
  Number,
  NumberIsFinite,
  NumberIsNaN,
  Object,
  ObjectDefineProperty,
  Promise,
  PromisePrototype,
  SymbolFor,
  Proxy,
  RangeError,
  ReflectApply,
  ReflectConstruct,
  ReflectGet,
  ReflectGetOwnPropertyDescriptor,
  ReflectOwnKeys,
  RegExpPrototypeExec,
  String,
  StringFromCharCode,
  StringPrototypeCharCodeAt,
  StringPrototypePadStart,
  SymbolToPrimitive,
  TypeError,
  Uint8Array,
  WeakMap,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
  append,
  dataProperty,
  globalObject,
  isObject,
  list,
  record,
} from './primordials';

/**
 * The time zone and locale of every workflow, whatever the host's TZ and LANG. Replaying a
 * history must give the same commands on every machine, and a workflow that formats a date or a
 * number (or compares strings) would otherwise give results that depend on the machine it runs
 * on: `new Date('2020-01-01T10:00')`, `toLocaleString()` or `Intl.NumberFormat().format(1234.5)`
 * read the host's zone or locale. A workflow may still name a zone or a locale explicitly.
 */
export const WORKFLOW_TIME_ZONE = 'UTC';
export const WORKFLOW_LOCALE = 'en-US';

type AnyFunction = (...args: any[]) => any;

// The functions below run while the bundle loads, before any workflow code: Object.prototype is
// still intact, so they may use plain descriptor literals (record/dataProperty are for what runs
// later, and cost a prototype change each, in every new context).

/** Defines a built-in property the way the built-ins are: writable, configurable, not enumerable. */
function defineBuiltin(target: object, key: PropertyKey, value: unknown): void {
  'use strict';
  ObjectDefineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

/**
 * Makes `Replacement` stand in for the constructor `Original`: same name, length, prototype
 * object (so `instanceof` and subclassing work) and static properties, and the prototype's
 * `constructor` points to the replacement, so the original is no longer reachable.
 */
function replaceConstructor(Replacement: AnyFunction, Original: AnyFunction): void {
  'use strict';
  ObjectDefineProperty(Replacement, 'name', { value: Original.name, writable: false, enumerable: false, configurable: true });
  ObjectDefineProperty(Replacement, 'length', { value: Original.length, writable: false, enumerable: false, configurable: true });
  const keys = ReflectOwnKeys(Original);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === 'length' || key === 'name') continue;
    ObjectDefineProperty(Replacement, key, ReflectGetOwnPropertyDescriptor(Original, key)!);
  }
  defineBuiltin(Original.prototype, 'constructor', Replacement);
}

/**
 * A method calling `body` with its receiver and arguments. Like the built-ins it is not a
 * constructor; its name and length come from the literal that makes it (cheaper, for every new
 * context, than redefining them).
 */
function method(name: string, length: number, body: (self: unknown, args: IArguments) => unknown): AnyFunction {
  'use strict';
  switch (length) {
    case 0:
      return {
        [name](this: unknown) {
          return body(this, arguments);
        },
      }[name];
    case 1:
      return {
        [name](this: unknown, _a: unknown) {
          return body(this, arguments);
        },
      }[name];
    case 2:
      return {
        [name](this: unknown, _a: unknown, _b: unknown) {
          return body(this, arguments);
        },
      }[name];
    default: {
      const fn = {
        [name](this: unknown) {
          return body(this, arguments);
        },
      }[name];
      ObjectDefineProperty(fn, 'length', dataProperty(length, false, false, true));
      return fn;
    }
  }
}

/** The arguments as an array at least `length` long (missing ones undefined). */
function argumentList(args: IArguments, length: number): unknown[] {
  'use strict';
  const out = list<unknown>();
  for (let i = 0; i < args.length || i < length; i++) append(out, args[i]);
  return out;
}

// ── time ─────────────────────────────────────────────────────────────────────────────────────────

function now(): number {
  'use strict';
  return getState('Date').now;
}

/** ECMAScript's date-only forms (`2020`, `2020-01`, `2020-01-02`): UTC already. */
const ISO_DATE_ONLY = /^(?:[+-]\d{6}|\d{4})(?:-\d\d(?:-\d\d)?)?$/;
/** ECMAScript's date-time forms (V8 reads them whole or not at all once it has seen the `T`). */
const ISO_DATE_TIME = /^(?:[+-]\d{6}|\d{4})(?:-\d\d(?:-\d\d)?)?[Tt]/;
/** ECMAScript's date-time forms without a zone, which ECMAScript reads as local time. */
const ISO_DATE_TIME_NO_ZONE = /^(?:[+-]\d{6}|\d{4})(?:-\d\d(?:-\d\d)?)?[Tt]\d\d:\d\d(?::\d\d(?:\.\d+)?)?$/;
/** Words V8's legacy date parser reads as a time zone (after a number): UT, UTC, GMT, Z and US zones. */
const ZONE_WORDS = /^(?:ut|utc|gmt|z|[ecmp][sd]t)$/;
/** A word V8 reads as a month: any word whose first three letters are a month's. */
const MONTH_WORD = /^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/;

/**
 * Whether V8's legacy (non-ISO) date parser finds a time zone in `s`, which it parsed: a zone
 * word after a number, or a sign after a time of day. Follows V8's tokenizer: parenthesised text is
 * skipped, a word is a run of characters from 'A' up, a '-' right after a day number or a month
 * name is a separator.
 */
function legacyDateHasZone(s: string): boolean {
  'use strict';
  let hasNumber = false;
  let hasTime = false;
  let i = 0;
  const code = (at: number) => (at < s.length ? StringPrototypeCharCodeAt(s, at) : -1);
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
  let timePending = false; // a number followed by ':' was read: the next number is part of the time
  while (i < s.length) {
    const c = code(i);
    if (isDigit(c)) {
      while (isDigit(code(i))) i++;
      hasNumber = true;
      if (code(i) === 0x3a /* : */) {
        hasTime = true;
        timePending = true;
        i++;
      } else if (timePending) {
        timePending = false;
        if (code(i) === 0x2e /* . */) {
          i++;
          while (isDigit(code(i))) i++;
        }
      } else if (code(i) === 0x2d /* - */) {
        i++; // a separator between day numbers
      }
    } else if (c === 0x2b /* + */ || c === 0x2d /* - */) {
      if (hasTime) return true;
      i++;
    } else if (c === 0x28 /* ( */) {
      for (let depth = 0; i < s.length; i++) {
        if (code(i) === 0x28) depth++;
        else if (code(i) === 0x29 && --depth === 0) break;
      }
      i++;
    } else if (c >= 0x41 /* A */ && !isSpace(c)) {
      let word = '';
      // V8 lower-cases ASCII letters only.
      for (; i < s.length && code(i) >= 0x41 && !isSpace(code(i)); i++) word += code(i) <= 0x5a ? StringFromCharCode(code(i) + 0x20) : s[i];
      if (hasNumber && RegExpPrototypeExec(ZONE_WORDS, word) !== null) return true;
      if (RegExpPrototypeExec(MONTH_WORD, word) !== null && code(i) === 0x2d) i++;
    } else i++;
  }
  return false;
}

/**
 * Date.parse with the workflow's time zone: a date-time without a zone is UTC. ISO forms get a
 * `Z`, legacy forms a ` UTC`; when V8 would not accept those, the host zone's offset (read from
 * the original getTimezoneOffset) is added back.
 */
function parseDate(s: string): number {
  'use strict';
  const t = DateParse(s);
  if (NumberIsNaN(t) || RegExpPrototypeExec(ISO_DATE_ONLY, s) !== null) return t;
  if (RegExpPrototypeExec(ISO_DATE_TIME, s) !== null) {
    return RegExpPrototypeExec(ISO_DATE_TIME_NO_ZONE, s) !== null ? DateParse(`${s}Z`) : t;
  }
  if (legacyDateHasZone(s)) return t;
  let c = 0;
  for (; c < s.length; c++) if (s[c] === '(') break;
  if (c === s.length) {
    const utc = DateParse(`${s} UTC`);
    if (!NumberIsNaN(utc)) return utc;
  }
  return t - DatePrototypeGetTimezoneOffset(new DateConstructor(t)) * 60_000;
}

/** ToPrimitive(value) with no hint, as the Date constructor does it. */
function toPrimitive(value: object): unknown {
  'use strict';
  const exotic = (value as Record<PropertyKey, unknown>)[SymbolToPrimitive];
  if (exotic !== undefined && exotic !== null) {
    if (typeof exotic !== 'function') throw new TypeError('Symbol.toPrimitive is not a function');
    const result = ReflectApply(exotic, value, ['default']);
    if (isObject(result)) throw new TypeError('Cannot convert object to primitive value');
    return result;
  }
  const names = ['valueOf', 'toString'];
  for (let i = 0; i < names.length; i++) {
    const fn = (value as Record<string, unknown>)[names[i]];
    if (typeof fn === 'function') {
      const result = ReflectApply(fn, value, []);
      if (!isObject(result)) return result;
    }
  }
  throw new TypeError('Cannot convert object to primitive value');
}

/** The time value `new Date(value)` stands for, strings parsed in the workflow's zone. */
function timeValueOf(value: unknown): unknown {
  'use strict';
  if (isObject(value)) {
    let time: number | undefined;
    try {
      time = DatePrototypeGetTime(value as Date); // a Date: its time value, nothing called on it
    } catch {
      time = undefined;
    }
    if (time !== undefined) return time;
    value = toPrimitive(value);
  }
  return typeof value === 'string' ? parseDate(value) : value;
}

const pad = (n: number, width = 2) => StringPrototypePadStart(`${n}`, width, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dateString(d: Date): string {
  'use strict';
  const year = DatePrototypeGetUTCFullYear(d);
  return `${DAYS[DatePrototypeGetUTCDay(d)]} ${MONTHS[DatePrototypeGetUTCMonth(d)]} ${pad(DatePrototypeGetUTCDate(d))} ${year < 0 ? '-' + pad(-year, 6) : pad(year, 4)}`;
}

function timeString(d: Date): string {
  'use strict';
  return `${pad(DatePrototypeGetUTCHours(d))}:${pad(DatePrototypeGetUTCMinutes(d))}:${pad(DatePrototypeGetUTCSeconds(d))} GMT+0000 (Coordinated Universal Time)`;
}

/** `Date.prototype.toString` in the workflow's zone (throws for a receiver that is not a Date). */
function dateToString(d: Date): string {
  'use strict';
  return NumberIsNaN(DatePrototypeGetTime(d)) ? 'Invalid Date' : `${dateString(d)} ${timeString(d)}`;
}

function patchDate(): void {
  'use strict';
  const OriginalDate = DateConstructor;
  const proto = DatePrototype as unknown as Record<string, AnyFunction>;
  function Date(this: unknown, ...args: unknown[]): Date | string {
    // Called as a function, Date returns the current time as a string (ignoring its arguments).
    if (new.target === undefined) return dateToString(new OriginalDate(now()));
    let time: unknown;
    if (args.length === 0) time = now();
    else if (args.length === 1) time = timeValueOf(args[0]);
    // Components are local time, which is UTC here.
    else time = ReflectApply(DateUTC, undefined, args);
    return ReflectConstruct(OriginalDate, [time], new.target) as Date;
  }
  replaceConstructor(Date, OriginalDate);
  // Each replacement below is a method of an object literal: not a constructor, named and as long
  // as the built-in it replaces, strict (this function is), and one closure per context.
  const statics = {
    now(): number {
      return now();
    },
    parse(s: unknown): number {
      return parseDate(String(s));
    },
  };
  defineBuiltin(Date, 'now', statics.now);
  defineBuiltin(Date, 'parse', statics.parse);

  const components = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
  for (let i = 0; i < components.length; i++) {
    const name = components[i];
    defineBuiltin(proto, `get${name}`, proto[`getUTC${name}`]);
    if (name !== 'Day') defineBuiltin(proto, `set${name}`, proto[`setUTC${name}`]);
  }
  const methods = {
    getTimezoneOffset(this: Date): number {
      return NumberIsNaN(DatePrototypeGetTime(this)) ? NaN : 0;
    },
    // Annex B's two-digit-year methods, in the workflow's zone.
    getYear(this: Date): number {
      return DatePrototypeGetUTCFullYear(this) - 1900;
    },
    setYear(this: Date, value: unknown): number {
      const d = this;
      const time = DatePrototypeGetTime(d);
      const year = Number(value);
      if (NumberIsNaN(year)) return DatePrototypeSetTime(d, NaN);
      const whole = MathTrunc(year);
      if (NumberIsNaN(time)) DatePrototypeSetTime(d, 0);
      return DatePrototypeSetUTCFullYear(d, whole >= 0 && whole <= 99 ? 1900 + whole : year);
    },
    toString(this: Date): string {
      return dateToString(this);
    },
    toDateString(this: Date): string {
      return NumberIsNaN(DatePrototypeGetTime(this)) ? 'Invalid Date' : dateString(this);
    },
    toTimeString(this: Date): string {
      return NumberIsNaN(DatePrototypeGetTime(this)) ? 'Invalid Date' : timeString(this);
    },
  };
  defineBuiltin(proto, 'getTimezoneOffset', methods.getTimezoneOffset);
  defineBuiltin(proto, 'getYear', methods.getYear);
  defineBuiltin(proto, 'setYear', methods.setYear);
  defineBuiltin(proto, 'toString', methods.toString);
  defineBuiltin(proto, 'toDateString', methods.toDateString);
  defineBuiltin(proto, 'toTimeString', methods.toTimeString);
  patchLocaleMethod(proto, 'toLocaleString', 0, 1);
  patchLocaleMethod(proto, 'toLocaleDateString', 0, 1);
  patchLocaleMethod(proto, 'toLocaleTimeString', 0, 1);
  defineBuiltin(globalObject, 'Date', Date);
}

// ── locale ───────────────────────────────────────────────────────────────────────────────────────

/**
 * The locales a workflow asked for, canonicalized as the Intl constructors do (the same errors for
 * bad tags), followed by WORKFLOW_LOCALE: with none requested, or none that ICU has, the result is
 * WORKFLOW_LOCALE and not the host's default locale.
 */
function withDefaultLocale(locales: unknown): string[] {
  'use strict';
  const out = list<string>();
  if (locales !== undefined) {
    const requested = IntlGetCanonicalLocales(locales as string | string[]);
    for (let i = 0; i < requested.length; i++) append(out, requested[i]);
  }
  append(out, WORKFLOW_LOCALE);
  return out;
}

/** `options` as Intl reads it, with WORKFLOW_TIME_ZONE when its timeZone is undefined. */
function withDefaultTimeZone(options: unknown): unknown {
  'use strict';
  if (options === undefined) return record({ timeZone: WORKFLOW_TIME_ZONE });
  if (options === null) return options; // the original throws its TypeError
  // A Proxy rather than a copy: getters, inherited options and the order of reads stay as they
  // were. The handler has no prototype, so no trap defined on Object.prototype joins it.
  return new Proxy(
    Object(options) as object,
    record({
      get(target: object, key: PropertyKey, receiver: unknown) {
        const value = ReflectGet(target, key, receiver);
        return key === 'timeZone' && value === undefined ? WORKFLOW_TIME_ZONE : value;
      },
    }),
  );
}

/**
 * Replaces `proto[name]` with a method that passes withDefaultLocale(args[localesAt]) (and
 * withDefaultTimeZone(args[optionsAt]) when given) to the original.
 */
function patchLocaleMethod(proto: object, name: string, localesAt: number, optionsAt?: number): void {
  'use strict';
  const original = (proto as Record<string, AnyFunction>)[name];
  if (typeof original !== 'function') return;
  // The lengths of the methods patched here without method()'s second closure: one closure per
  // patched method and context.
  let replacement: AnyFunction;
  if (original.length === 0) {
    replacement = {
      [name](this: unknown) {
        return callWithLocale(original, this, arguments, localesAt, optionsAt);
      },
    }[name];
  } else if (original.length === 1) {
    replacement = {
      [name](this: unknown, _a: unknown) {
        return callWithLocale(original, this, arguments, localesAt, optionsAt);
      },
    }[name];
  } else replacement = method(name, original.length, (self, args) => callWithLocale(original, self, args, localesAt, optionsAt));
  defineBuiltin(proto, name, replacement);
}

/** `original` called on `self` with `args`, its locales (and options) defaulted (see patchLocaleMethod). */
function callWithLocale(original: AnyFunction, self: unknown, args: IArguments, localesAt: number, optionsAt: number | undefined): unknown {
  'use strict';
  const list = argumentList(args, localesAt + 1);
  list[localesAt] = withDefaultLocale(list[localesAt]);
  if (optionsAt !== undefined) {
    while (list.length <= optionsAt) append(list, undefined);
    list[optionsAt] = withDefaultTimeZone(list[optionsAt]);
  }
  return ReflectApply(original, self, list);
}

/** The Intl constructors with a default locale (Intl.Locale has none). */
const INTL_CONSTRUCTORS = ['Collator', 'DateTimeFormat', 'DisplayNames', 'DurationFormat', 'ListFormat', 'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'Segmenter', 'v8BreakIterator'];

function patchIntl(): void {
  'use strict';
  const intl = globalObject.Intl as Record<string, AnyFunction>;
  for (let i = 0; i < INTL_CONSTRUCTORS.length; i++) {
    const name = INTL_CONSTRUCTORS[i];
    const Original = intl[name];
    if (typeof Original !== 'function') continue;
    const zoned = name === 'DateTimeFormat';
    const Replacement = function (this: unknown, locales?: unknown, options?: unknown) {
      const args = [withDefaultLocale(locales), zoned ? withDefaultTimeZone(options) : options];
      // Without `new`, the original decides (DateTimeFormat, NumberFormat and Collator construct
      // anyway, the others throw), with this same receiver.
      return new.target === undefined ? ReflectApply(Original, this, args) : ReflectConstruct(Original, args, new.target);
    };
    replaceConstructor(Replacement, Original);
    defineBuiltin(intl, name, Replacement);
  }

  // A DateTimeFormat given no date formats "now": the workflow's time, not the host's clock.
  const dtfProto = intl.DateTimeFormat.prototype as object;
  const formatGetter = ReflectGetOwnPropertyDescriptor(dtfProto, 'format')!.get as AnyFunction;
  const formatters = new WeakMap<AnyFunction, AnyFunction>();
  const formatToParts = (dtfProto as Record<string, AnyFunction>).formatToParts;
  // Accessor and method literals, as in patchDate: named as the built-ins, strict, not constructors.
  const dtf = {
    get format(): AnyFunction {
      const bound = ReflectApply(formatGetter, this, []) as AnyFunction; // throws for a non-DateTimeFormat
      let format = WeakMapPrototypeGet(formatters, bound);
      if (format === undefined) {
        // Like the original bound function: anonymous, length 1, the same one on every read.
        format = method('', 1, (_, args) => bound(args[0] === undefined ? now() : args[0]));
        WeakMapPrototypeSet(formatters, bound, format);
      }
      return format;
    },
    formatToParts(this: unknown, date: unknown): unknown {
      return ReflectApply(formatToParts, this, [date === undefined ? now() : date]);
    },
  };
  ObjectDefineProperty(dtfProto, 'format', {
    enumerable: false,
    configurable: true,
    get: ReflectGetOwnPropertyDescriptor(dtf, 'format')!.get,
  });
  defineBuiltin(dtfProto, 'formatToParts', dtf.formatToParts);

  patchLocaleMethod(Number.prototype, 'toLocaleString', 0);
  const BigIntConstructor = globalObject.BigInt as AnyFunction | undefined;
  if (typeof BigIntConstructor === 'function') patchLocaleMethod(BigIntConstructor.prototype as object, 'toLocaleString', 0);
  patchLocaleMethod(String.prototype, 'localeCompare', 1);
  patchLocaleMethod(String.prototype, 'toLocaleUpperCase', 0);
  patchLocaleMethod(String.prototype, 'toLocaleLowerCase', 0);
  // Array.prototype.toLocaleString and the typed arrays' call their elements' toLocaleString,
  // patched above, with the locales and options they were given.
}

// ── randomness, timers, garbage collection, console ──────────────────────────────────────────────

function random(): number {
  'use strict';
  return getState('Math.random').random();
}

function patchRandom(): void {
  'use strict';
  const math = {
    random(): number {
      return random();
    },
  };
  defineBuiltin(globalObject.Math as object, 'random', math.random);
  // Method literals, as in patchDate.
  const crypto = {
    getRandomValues(array: unknown): unknown {
      if (!ArrayBufferIsView(array)) throw new TypeError('crypto.getRandomValues: expected an integer typed array');
      const view = array as ArrayBufferView;
      if (view.byteLength > 65536) throw new RangeError('crypto.getRandomValues: at most 65536 bytes at a time');
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = MathFloor(random() * 256);
      return array;
    },
    randomUUID(): string {
      return uuid4FromRandom(random);
    },
  };
  defineBuiltin(globalObject, 'crypto', crypto);
}

function patchTimers(): void {
  'use strict';
  // Method literals, as in patchDate.
  const timers = {
    setTimeout(callback: unknown): number {
      const args = arguments;
      if (typeof callback !== 'function') throw new TypeError('setTimeout: expected a function as the first argument');
      const extra = list<unknown>();
      for (let i = 2; i < args.length; i++) append(extra, args[i]);
      const delay = Number(args[1] ?? 0);
      const timer = getState('setTimeout').startTimer(NumberIsFinite(delay) ? delay : 0, () => {
        ReflectApply(callback, undefined, extra);
      });
      return timer.seq;
    },
    clearTimeout(handle: unknown): void {
      if (typeof handle === 'number') maybeState()?.cancelTimer(handle);
    },
    queueMicrotask(callback: unknown): void {
      if (typeof callback !== 'function') throw new TypeError('queueMicrotask: expected a function');
      thenInContext(new Promise<void>((resolve) => resolve()), callback as AnyFunction, undefined);
    },
  };
  defineBuiltin(globalObject, 'setTimeout', timers.setTimeout);
  defineBuiltin(globalObject, 'clearTimeout', timers.clearTimeout);
  defineBuiltin(globalObject, 'queueMicrotask', timers.queueMicrotask);
}

function patchGc(): void {
  'use strict';
  const names = ['WeakRef', 'FinalizationRegistry'];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    defineBuiltin(globalObject, name, function () {
      throw new DeterminismViolationError(`${name} cannot be used in workflows: garbage collection is not deterministic`);
    });
  }
}

function patchConsole(): void {
  'use strict';
  const log = (level: 'debug' | 'info' | 'warn' | 'error', args: IArguments) => {
    maybeState()?.log(level, describeLogValues(argumentList(args, 0)));
  };
  // Method literals, as in patchDate.
  defineBuiltin(globalObject, 'console', {
    log(): void {
      log('info', arguments);
    },
    info(): void {
      log('info', arguments);
    },
    debug(): void {
      log('debug', arguments);
    },
    warn(): void {
      log('warn', arguments);
    },
    error(): void {
      log('error', arguments);
    },
    trace(): void {
      log('debug', arguments);
    },
  });
}

// ── what would escape the isolate's limits ───────────────────────────────────────────────────────

/**
 * Memory that the isolate's heap limit does not count. WebAssembly memories and resizable
 * (or growable shared) ArrayBuffers reserve their maximum outside the V8 heap and commit it as
 * they grow, so one workflow could take gigabytes of the worker's memory under a 128 MB limit.
 * Plain ArrayBuffers and SharedArrayBuffers are counted and stay available.
 */
function refuseOutOfHeapMemory(): void {
  'use strict';
  const refuse = (): never => {
    throw new TypeError(
      'WebAssembly cannot be used in deja workflows: WebAssembly memory lives outside the isolate heap, ' +
        "beyond the worker's memory limit for workflows. Run WebAssembly in an activity instead.",
    );
  };
  // Every use (WebAssembly.Memory, .instantiate, 'compile' in WebAssembly…) throws the reason.
  const trap = method('WebAssembly', 0, () => refuse());
  defineBuiltin(
    globalObject,
    'WebAssembly',
    // The handler has no prototype: traps defined later on Object.prototype must not join it.
    new Proxy({}, record({ get: trap, set: trap, has: trap, defineProperty: trap, deleteProperty: trap, getOwnPropertyDescriptor: trap })),
  );

  const names = ['ArrayBuffer', 'SharedArrayBuffer'];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const Original = globalObject[name] as AnyFunction | undefined;
    if (typeof Original !== 'function') continue;
    const Replacement = function (this: unknown, length?: unknown, options?: unknown) {
      if (new.target === undefined) return ReflectApply(Original, this, [length]); // throws: requires new
      if (isObject(options) && (options as { maxByteLength?: unknown }).maxByteLength !== undefined) {
        throw new TypeError(
          `a resizable ${name} (maxByteLength) cannot be used in deja workflows: its memory is reserved outside the isolate heap, ` +
            "beyond the worker's memory limit for workflows",
        );
      }
      return ReflectConstruct(Original, [length], new.target);
    };
    replaceConstructor(Replacement, Original);
    defineBuiltin(globalObject, name, Replacement);
  }
}

/**
 * Atomics.waitAsync settles its promise from a host timer, in wall-clock time and outside any
 * activation (and, with a timeout, it aborts the whole worker process in isolated-vm). Atomics.wait
 * stays: no other thread can share the isolate's memory, so it returns "timed-out" or
 * "not-equal", and a long wait is stopped by the activation's deadline like any busy loop.
 */
function refuseHostTimers(): void {
  'use strict';
  const atomics = globalObject.Atomics as Record<string, unknown> | undefined;
  if (atomics === undefined || typeof atomics.waitAsync !== 'function') return;
  // A method literal, as in patchDate (four parameters: the built-in's length).
  const refused = {
    waitAsync(_typedArray: unknown, _index: unknown, _value: unknown, _timeout: unknown): never {
      throw new DeterminismViolationError(
        'Atomics.waitAsync cannot be used in deja workflows: it settles on a host timer, in wall-clock time, outside the workflow task',
      );
    },
  };
  defineBuiltin(atomics, 'waitAsync', refused.waitAsync);
}

/** Installs the deterministic globals once per context, before any workflow code runs. */
/**
 * The async context (async-context.ts): the driver of the bundle's lowered async functions, and a
 * `then` that carries the current scope to its callbacks. The replacement is marked with
 * `Symbol.for('deja.contextThen')` so that a test can tell it from a workflow's own.
 */
function installAsyncContext(): void {
  'use strict';
  __dejaAsync = runAsync;
  // A method literal, as in patchDate.
  const then = {
    then(this: Promise<unknown>, onFulfilled: unknown, onRejected: unknown): Promise<unknown> {
      return thenInContext(this, onFulfilled, onRejected);
    },
  }.then;
  ObjectDefineProperty(then, SymbolFor('deja.contextThen'), { value: true, writable: false, enumerable: false, configurable: false });
  defineBuiltin(PromisePrototype, 'then', then);
}

export function installGlobals(): void {
  'use strict';
  installAsyncContext();
  patchDate();
  patchIntl();
  patchRandom();
  patchTimers();
  patchGc();
  patchConsole();
  refuseOutOfHeapMemory();
  refuseHostTimers();
}
