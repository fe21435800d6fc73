/**
 * Bundle problems and the one error that carries them (host side). Every reason a workflow module
 * cannot be bundled is collected first and reported together, each with where, what, why and,
 * when there is one, what to do instead.
 */
import * as path from 'node:path';
import { DejaError } from '../errors';

/** One offending spot. `line` and `column` are 1-based; `column` counts UTF-16 code units. */
export interface BundleProblem {
  /** Absolute path of the file that contains the offence. */
  file: string;
  line: number;
  column: number;
  what: string;
  why: string;
  hint?: string;
}

/** The workflow module cannot be bundled; `problems` lists every offender, sorted by place. */
export class WorkflowBundleError extends DejaError {
  readonly problems: BundleProblem[];
  constructor(
    readonly workflowsPath: string,
    problems: readonly BundleProblem[],
  ) {
    const sorted = sortProblems(problems);
    super('DEJA_BUNDLE', formatMessage(workflowsPath, sorted));
    this.problems = sorted;
  }
}

function sortProblems(problems: readonly BundleProblem[]): BundleProblem[] {
  const seen = new Set<string>();
  const unique: BundleProblem[] = [];
  for (const p of problems) {
    const key = `${p.file}\0${p.line}\0${p.column}\0${p.what}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(p);
  }
  return unique.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.what < b.what ? -1 : a.what > b.what ? 1 : 0),
  );
}

function formatMessage(workflowsPath: string, problems: readonly BundleProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const lines = [`Cannot bundle workflows ${displayPath(workflowsPath)}: ${count}`];
  for (const p of problems) {
    const where = p.line > 0 ? `${displayPath(p.file)}:${p.line}:${p.column}` : displayPath(p.file);
    lines.push(`  ${where} ${p.what}`, `    why: ${p.why}`);
    if (p.hint !== undefined) lines.push(`    hint: ${p.hint}`);
  }
  return lines.join('\n');
}

/** Relative to the working directory when the file is under it: shorter, and still clickable. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** What, why and hint for each kind of offence, so the wording lives in one place. */
export type Explanation = Pick<BundleProblem, 'what' | 'why' | 'hint'>;

const NO_NODE_WHY =
  'workflow code runs in a deterministic sandbox with no Node APIs; do file/network I/O in an activity';

const BUILTIN_HINTS: Record<string, string> = {
  crypto: "for random values use Math.random() or uuid4() from 'deja/workflow': both are seeded and replay the same",
  timers: "use sleep() from 'deja/workflow' or setTimeout, which become durable timers",
  'timers/promises': "use sleep() from 'deja/workflow', which becomes a durable timer",
};

export function nodeBuiltinImport(specifier: string, inDependency: boolean): Explanation {
  const bare = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
  return {
    what: `imports Node built-in "${specifier}"`,
    why: NO_NODE_WHY,
    hint:
      BUILTIN_HINTS[bare] ??
      (inDependency
        ? 'this dependency needs Node: call it from an activity, or use a package that works without Node'
        : 'move this code into an activity and call it through proxyActivities()'),
  };
}

const HOST_ONLY: Record<string, string> = {
  deja: "host-only: the 'deja' entry point is the client and worker API, which runs on the host",
  'deja/activity': "host-only: 'deja/activity' is for activity code, which runs on the host, outside the sandbox",
  '@temporalio/client': 'host-only: @temporalio/client talks to the service from the host, outside the sandbox',
  '@temporalio/worker': 'host-only: @temporalio/worker runs workflows from the host, outside the sandbox',
  '@temporalio/activity':
    'host-only: @temporalio/activity is for activity code, which runs on the host, outside the sandbox',
};

export const HOST_ONLY_MODULES: readonly string[] = Object.keys(HOST_ONLY);

export function hostOnlyImport(specifier: string): Explanation {
  return {
    what: `imports host-only module "${specifier}"`,
    why: HOST_ONLY[specifier] ?? `host-only: ${specifier} runs on the host, outside the sandbox`,
    hint:
      "import the workflow API from 'deja/workflow'; for activity signatures use `import type` " +
      'and proxyActivities<typeof activities>()',
  };
}

export function unsupportedSubpath(specifier: string, root: string): Explanation {
  return {
    what: `imports "${specifier}"`,
    why:
      `only the package root "${root}" is mapped to the deja workflow runtime; ` +
      "its internal files would not run in deja's sandbox",
    hint: `import from "${root}"`,
  };
}

const GLOBAL_HINTS: Record<string, string> = {
  process: 'read configuration on the host (client or activity) and pass it in as a workflow argument',
  Buffer: 'use Uint8Array, or do the encoding in an activity',
  __dirname: 'file paths mean nothing inside the sandbox; do file I/O in an activity',
  __filename: 'file paths mean nothing inside the sandbox; do file I/O in an activity',
  global: 'use globalThis',
  setImmediate: "use setTimeout or sleep() from 'deja/workflow', which become durable timers",
  clearImmediate: 'use clearTimeout on a durable timer',
};

/** The free Node globals refused in project files. */
export const NODE_GLOBALS: readonly string[] = [...Object.keys(GLOBAL_HINTS), 'require'];

export function nodeGlobalUse(name: string): Explanation {
  if (name === 'require') {
    return {
      what: "uses require other than as require('<string literal>')",
      why:
        'the bundler can only follow require calls whose argument is a string literal, ' +
        'and the sandbox has no module loader at run time',
      hint: 'import the module statically',
    };
  }
  return {
    what: `uses Node global "${name}"`,
    why: `"${name}" is a Node global, and workflow code runs in a deterministic sandbox with no Node APIs`,
    hint: GLOBAL_HINTS[name],
  };
}

/**
 * A name imported from the workflow API that the runtime does not export, whether by a named
 * import (`import { x }`) or through a namespace import (`wf.x`).
 */
export function missingApi(name: string): Explanation {
  return {
    what: `"${name}" is not part of deja's workflow API`,
    why: 'deja implements a subset of @temporalio/workflow so far; this name has no counterpart yet',
    hint: 'see the README for the workflow API deja offers today',
  };
}

/** For errors esbuild itself reports (resolution, syntax). */
export function compileError(text: string, notes: readonly string[]): Explanation {
  const hint = notes.join(' ');
  if (text.startsWith('Could not resolve')) {
    return {
      what: text,
      why: 'the bundler could not find this module from the importing file',
      hint: hint || 'check the specifier and that the package is installed',
    };
  }
  const missing = /^No matching export in "[^"]*runtime\/index\.ts" for import "([^"]+)"$/.exec(text);
  if (missing) return missingApi(missing[1]!);
  return { what: text, why: 'esbuild could not compile this file', ...(hint ? { hint } : {}) };
}
