// Error classes across two copies of deja: the source loaded here and the compiled copy in dist/
// (as an application that ends up with two versions of the library would). Every exported error
// class answers `instanceof` for an instance of the other copy exactly as it does for its own,
// both ways; and there is one DeterminismViolationError.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

/** The modules that export error classes, by path from the root without extension. */
const MODULES = [
  'lib/index',
  'lib/errors',
  'lib/sandbox/index',
  'lib/bundler/index',
  'lib/engine/index',
  'lib/client/index',
  'runtime/index',
  'runtime/errors',
  'runtime/failure',
];

// The second copy is the build: an old one would test old code.
for (const file of ['lib/errors', 'runtime/errors', 'runtime/failure']) {
  const built = path.join(root, 'dist', `${file}.js`);
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, `${file}.ts`)).mtimeMs) {
    throw new Error(`dist/${file}.js is missing or older than ${file}.ts: run "npm run build" (node scripts/test.js does)`);
  }
}

type ErrorClass = new (...args: any[]) => Error;

/** Every exported error class of a copy, by name. */
function errorClasses(load: (module: string) => Record<string, unknown>): Map<string, ErrorClass> {
  const classes = new Map<string, ErrorClass>();
  for (const module of MODULES) {
    for (const [name, value] of Object.entries(load(module))) {
      if (typeof value === 'function' && value.prototype instanceof Error) {
        const known = classes.get(name);
        if (known !== undefined && known !== value) throw new Error(`two classes named ${name}`);
        classes.set(name, value as ErrorClass);
      }
    }
  }
  return classes;
}

const source = errorClasses((m) => require(path.join(root, m)));
const built = errorClasses((m) => require(path.join(root, 'dist', m)));

/** Constructor arguments, for the classes whose first argument is not the message. */
const ARGS: Record<string, unknown[]> = {
  DejaError: ['DEJA_INTERNAL', 'message'],
  LimitExceededError: ['DEJA_LIMIT_EXCEEDED', 'message', 'maxCommandsPerTask', 6, 5],
  WorkflowBundleError: ['/w.ts', [{ file: '/w.ts', line: 1, column: 1, what: 'x', why: 'y' }]],
};
/** Exported names that are another class under its seed-era name: the same class, its own name. */
const ALIASES: Record<string, string> = { WorkflowExecutionFailedError: 'WorkflowFailedError' };
const make = (name: string, C: ErrorClass) => new C(...(ARGS[name] ?? ['message']));

t.test('the two copies are distinct and export the same error classes', async (t) => {
  t.same([...built.keys()].sort(), [...source.keys()].sort());
  t.ok(source.size >= 25, `found ${source.size} classes`);
  for (const [name, C] of source) t.not(built.get(name), C, `${name}: two copies`);
  for (const name of ['DejaError', 'InvalidArgumentError', 'DeterminismViolationError', 'IllegalStateError', 'SandboxTimeoutError', 'StaleTaskError', 'WorkflowExecutionFailedError', 'ApplicationFailure', 'ServerFailure']) {
    t.ok(source.has(name), `${name} is among them`);
  }
});

t.test('instanceof answers the same for an instance of either copy, both ways, for every class', async (t) => {
  for (const [from, to] of [
    [source, built],
    [built, source],
  ] as const) {
    for (const [name, C] of from) {
      const error = make(name, C);
      t.equal(error.name, ALIASES[name] ?? name, `${name}: its name`);
      for (const [other, Same] of from) {
        const expected = error instanceof Same;
        t.equal(error instanceof to.get(other)!, expected, `${name} ${expected ? 'is' : 'is not'} ${other} in the other copy`);
      }
    }
  }
});

t.test('a user subclass is an instance of its own class and of deja classes, across copies', async (t) => {
  const { InvalidArgumentError } = require(path.join(root, 'lib', 'errors')) as { InvalidArgumentError: ErrorClass };
  const { ApplicationFailure } = require(path.join(root, 'runtime', 'failure')) as { ApplicationFailure: ErrorClass };
  class OptionError extends InvalidArgumentError {}
  class CardDeclined extends ApplicationFailure {}
  t.ok(new OptionError('x') instanceof built.get('InvalidArgumentError')!);
  t.ok(new OptionError('x') instanceof built.get('DejaError')!);
  t.notOk(new OptionError('x') instanceof built.get('InvalidHistoryError')!);
  t.ok(new CardDeclined('x') instanceof built.get('ApplicationFailure')!);
  t.ok(new CardDeclined('x') instanceof built.get('TemporalFailure')!);
  t.notOk(new CardDeclined('x') instanceof built.get('ActivityFailure')!);
});

t.test('instanceof never throws, and is false for look-alikes', async (t) => {
  const hostile = new Proxy(
    {},
    {
      has() {
        throw new Error('trap');
      },
      getPrototypeOf() {
        throw new Error('trap');
      },
    },
  );
  for (const [name, C] of source) {
    for (const value of [null, undefined, 42, 'DejaError', {}, { name, code: 'DEJA_INVALID_ARGUMENT' }, new Error('plain'), hostile]) {
      t.equal(value instanceof C, false, `${name} vs ${typeof value === 'object' && value !== null ? JSON.stringify(Object.keys(value)) : String(value)}`);
    }
  }
});

t.test('one DeterminismViolationError: the runtime class, with the host fields and code', async (t) => {
  const lib = require(path.join(root, 'lib', 'errors'));
  const runtime = require(path.join(root, 'runtime', 'errors'));
  const workflow = require(path.join(root, 'runtime', 'index'));
  t.equal(lib.DeterminismViolationError, runtime.DeterminismViolationError);
  t.equal(workflow.DeterminismViolationError, runtime.DeterminismViolationError);
  t.equal(lib.DejaError, runtime.DejaError);
  const error = new lib.DeterminismViolationError('nondeterminism at event 5', 5, { type: 'timerStarted' }, { type: 'startTimer' });
  t.match(error, { name: 'DeterminismViolationError', code: 'DEJA_NONDETERMINISM', eventId: 5, recorded: { type: 'timerStarted' }, emitted: { type: 'startTimer' } });
  t.ok(error instanceof lib.DejaError);
  t.match(new runtime.IllegalStateError('outside'), { name: 'IllegalStateError', code: 'DEJA_ILLEGAL_STATE' });
});

t.test('errors thrown to activity code carry a code', async (t) => {
  const { Context, heartbeat } = require(path.join(root, 'lib', 'activity'));
  t.throws(() => Context.current(), { name: 'IllegalStateError', code: 'DEJA_ILLEGAL_STATE', message: /only be called inside an activity/ });
  const context = new Context({ activityId: '1', activityType: 'a', workflowId: 'w', runId: 'r', workflowType: 'x', taskQueue: 'q', attempt: 1 }, new AbortController().signal, () => undefined);
  Context.run(context, () => {
    t.throws(() => heartbeat(Number.NaN), { name: 'InvalidArgumentError', code: 'DEJA_INVALID_ARGUMENT', message: /heartbeat details must be a JSON value/ });
  });
});
