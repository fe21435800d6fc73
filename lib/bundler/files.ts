/**
 * The bundle file on disk (host side): written content-addressed by the bundle's hash into the
 * cache folder (see lib/cache, which also keeps the V8 code cache beside it), and read back by
 * `loadBundle`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROTOCOL_VERSION } from '../../runtime/protocol';
import { DejaError, InvalidArgumentError, describe } from '../errors';
import { codeCachePathFor, defaultCacheDir, fallbackCacheDir, makeDir, preparePrivateDir, rememberSourceHash, sha256, warnOnce, writeAtomic } from '../cache';

export { UNSAFE_CACHE_DIR_WARNING, readCodeCache, sha256, writeCodeCache } from '../cache';

export interface WorkflowBundle {
  /** One script (an IIFE): the deja runtime plus the user's workflow code. */
  code: string;
  /** sha256 hex of `code`. */
  hash: string;
  /** The PROTOCOL_VERSION the bundle was built for. */
  protocolVersion: number;
  /** Absolute path of the workflows module it was built from. */
  workflowsPath: string;
  /** Where the V8 code cache for this bundle lives, beside the bundle file. */
  codeCachePath: string;
  /** Where the bundle itself was written (`<cacheDir>/<hash>.js`). */
  bundlePath: string;
  /**
   * The source map of `code` (v3 JSON, positions only, no sources' content), kept beside the
   * bundle file as `<bundlePath>.map`. The worker maps a failed workflow task's stack through it
   * to the workflow's own files. Absent for a bundle loaded without its map.
   */
  sourceMap?: string;
}

/**
 * The first line of every bundle. The protocol field comes first and is parsed on its own, so a
 * bundle whose later fields changed is still refused by its version, not by a parse error. The
 * header is part of the code, so the hash covers the protocol version and the workflows path.
 */
const HEADER_PROTOCOL = /^\/\* deja-bundle protocol=(\d+)\b/;
const HEADER = /^\/\* deja-bundle protocol=\d+ workflows=("(?:[^"\\\n]|\\.)*") \*\/\n/;

export function bundleHeader(workflowsPath: string): string {
  // `*\/` is a valid JSON escape for `*/`, which would otherwise close the comment.
  const quoted = JSON.stringify(workflowsPath).replace(/\*\//g, '*\\/');
  return `/* deja-bundle protocol=${PROTOCOL_VERSION} workflows=${quoted} */\n`;
}

/**
 * The bundle record for `code`, whose sha256 is `hash`. The hash is remembered for this object,
 * so the code cache need not hash the source again to check a cache file against it.
 */
export function bundleRecord(code: string, hash: string, workflowsPath: string, bundlePath: string, sourceMap?: string): WorkflowBundle {
  const bundle: WorkflowBundle = {
    code,
    hash,
    protocolVersion: PROTOCOL_VERSION,
    workflowsPath,
    codeCachePath: codeCachePathFor(path.dirname(bundlePath), hash),
    bundlePath,
    ...(sourceMap !== undefined ? { sourceMap } : {}),
  };
  rememberSourceHash(bundle, code, hash);
  return bundle;
}

// ---- bundle files ----

/**
 * Writes the bundle file and returns its path. A folder the caller chose is used (the bundle file
 * is not executed from disk; the code cache beside it is checked on its own) or reported, never
 * silently replaced. The default folder may be unwritable (a read-only node_modules in a
 * container image) or not private to this user, so it falls back to the per-user temporary one.
 */
export function storeBundleFile(cacheDir: string | undefined, hash: string, code: string, sourceMap: string): string {
  if (cacheDir !== undefined) {
    try {
      makeDir(cacheDir);
      if (!fs.statSync(cacheDir).isDirectory()) throw new Error('it is not a directory');
      return writeBundleFile(cacheDir, hash, code, sourceMap);
    } catch (err) {
      throw new DejaError('DEJA_BUNDLE', `cannot write the workflow bundle to ${cacheDir}: ${(err as Error).message}`, { cause: err });
    }
  }
  const dirs = [...new Set([defaultCacheDir(process.cwd()), fallbackCacheDir()])];
  const failures: string[] = [];
  for (const [i, dir] of dirs.entries()) {
    const refused = preparePrivateDir(dir);
    if (refused === undefined) {
      try {
        return writeBundleFile(dir, hash, code, sourceMap);
      } catch (err) {
        failures.push(`${dir} (${(err as Error).message})`);
        continue;
      }
    }
    failures.push(`${dir} (${refused.problem})`);
    if (refused.unsafe) {
      const next = dirs[i + 1];
      warnOnce(dir, `deja: the cache folder ${dir} is not used: ${refused.problem}${next === undefined ? '' : `; using ${next} instead`}`);
    }
  }
  throw new DejaError(
    'DEJA_BUNDLE',
    `cannot write the workflow bundle to ${failures.join(' or ')}; pass cacheDir to choose a folder`,
  );
}

/**
 * Writes `<dir>/<hash>.js` and its map `<dir>/<hash>.js.map`, each unless an identical file is
 * already there, and returns the bundle's path. Throws the file system's error; the caller
 * decides whether another directory will do.
 */
function writeBundleFile(dir: string, hash: string, code: string, sourceMap: string): string {
  const file = path.join(dir, `${hash}.js`);
  if (readIfPresent(file) !== code) writeAtomic(file, code);
  if (readIfPresent(sourceMapPathFor(file)) !== sourceMap) writeAtomic(sourceMapPathFor(file), sourceMap);
  return file;
}

/** Where a bundle file's source map is kept: beside it, as `<bundle file>.map`. */
export function sourceMapPathFor(bundlePath: string): string {
  return `${bundlePath}.map`;
}

// ---- loading ----

/**
 * Reads a bundle written earlier by bundleWorkflowCode (or `deja bundle`), with its source map
 * when `<bundlePath>.map` is there. Refuses a file that is not a deja bundle, and one built for
 * another protocol version.
 */
export function loadBundle(bundlePath: string): WorkflowBundle {
  if (typeof bundlePath !== 'string' || bundlePath === '') {
    throw new InvalidArgumentError(`loadBundle: expected bundlePath to be a file path, got ${describe(bundlePath)}`);
  }
  if (bundlePath.includes('\0')) throw new InvalidArgumentError(`loadBundle: bundlePath contains a NUL character: ${JSON.stringify(bundlePath)}`);
  const file = path.resolve(bundlePath);
  let code: string;
  try {
    code = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`loadBundle: cannot read bundle ${file}: ${(err as Error).message}`);
  }
  const protocol = HEADER_PROTOCOL.exec(code);
  if (protocol === null) {
    throw new DejaError(
      'DEJA_BUNDLE',
      `${file} is not a deja workflow bundle: it does not start with a "/* deja-bundle protocol=… */" header`,
    );
  }
  const protocolVersion = Number(protocol[1]);
  if (protocolVersion !== PROTOCOL_VERSION) {
    throw new DejaError(
      'DEJA_PROTOCOL_MISMATCH',
      `bundle ${file} was built for deja protocol version ${protocolVersion}, but this deja speaks ` +
        `version ${PROTOCOL_VERSION}; rebuild the bundle with this version of deja`,
    );
  }
  const header = HEADER.exec(code);
  if (header === null) {
    throw new DejaError('DEJA_BUNDLE', `${file} has a malformed deja-bundle header`);
  }
  // The map is optional: without it the bundle runs the same, and stacks name bundle positions.
  return bundleRecord(code, sha256(code), JSON.parse(header[1]!) as string, file, readIfPresent(sourceMapPathFor(file)));
}

// ---- helpers ----

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
