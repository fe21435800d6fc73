/**
 * The bundle and its V8 code cache on disk (host side). Files are content-addressed by the
 * bundle's hash and always written as a temporary file renamed into place, so several processes
 * sharing one cache directory never see a partial file.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROTOCOL_VERSION } from '../../runtime/protocol';
import { DejaError, InvalidArgumentError, describe } from '../errors';

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

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * `<cwd>/node_modules/.cache/deja` when the project has a node_modules folder (the usual place
 * for tool caches), else a folder under the OS temporary directory.
 */
export function defaultCacheDir(cwd: string): string {
  const nodeModules = path.join(cwd, 'node_modules');
  return isDirectory(nodeModules) ? path.join(nodeModules, '.cache', 'deja') : fallbackCacheDir();
}

export function fallbackCacheDir(): string {
  return path.join(os.tmpdir(), 'deja-cache');
}

/** The V8 version is in the name because V8 rejects a code cache made by another version. */
export function codeCachePathFor(dir: string, hash: string): string {
  return path.join(dir, `${hash}-v8-${process.versions.v8}.cache`);
}

/**
 * Writes `<dir>/<hash>.js` unless an identical file is already there, and returns its path.
 * Throws the file system's error; the caller decides whether another directory will do.
 */
export function writeBundleFile(dir: string, hash: string, code: string): string {
  const file = path.join(dir, `${hash}.js`);
  if (readIfPresent(file) === code) return file;
  fs.mkdirSync(dir, { recursive: true });
  writeAtomic(file, code);
  return file;
}

/** The cached V8 code for a bundle, or undefined when there is none or it cannot be read. */
export function readCodeCache(bundle: WorkflowBundle): Buffer | undefined {
  checkBundle('readCodeCache', bundle);
  try {
    const data = fs.readFileSync(bundle.codeCachePath);
    return data.length > 0 ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores the V8 code cache for a bundle. The cache is an optimisation, so a directory that cannot
 * be written (read-only, full, gone) is skipped silently: the next run compiles without it.
 */
export function writeCodeCache(bundle: WorkflowBundle, data: Buffer): void {
  checkBundle('writeCodeCache', bundle);
  if (!(data instanceof Uint8Array)) {
    throw new InvalidArgumentError(`writeCodeCache: expected data to be a Buffer, got ${describe(data)}`);
  }
  try {
    fs.mkdirSync(path.dirname(bundle.codeCachePath), { recursive: true });
    writeAtomic(bundle.codeCachePath, data);
  } catch {
    // Deliberately ignored; see above.
  }
}

/**
 * Reads a bundle written earlier by bundleWorkflowCode (or `deja bundle`). Refuses a file that is
 * not a deja bundle, and one built for another protocol version.
 */
export function loadBundle(bundlePath: string): WorkflowBundle {
  if (typeof bundlePath !== 'string' || bundlePath === '') {
    throw new InvalidArgumentError(`loadBundle: expected bundlePath to be a file path, got ${describe(bundlePath)}`);
  }
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
  const hash = sha256(code);
  return {
    code,
    hash,
    protocolVersion,
    workflowsPath: JSON.parse(header[1]!) as string,
    codeCachePath: codeCachePathFor(path.dirname(file), hash),
    bundlePath: file,
  };
}

function checkBundle(where: string, bundle: WorkflowBundle): void {
  if (typeof bundle !== 'object' || bundle === null || typeof bundle.codeCachePath !== 'string') {
    throw new InvalidArgumentError(`${where}: expected a WorkflowBundle, got ${describe(bundle)}`);
  }
}

/** Write beside the target, then rename: rename within one directory replaces atomically. */
function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The write's own error is the one worth reporting.
    }
    throw err;
  }
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
