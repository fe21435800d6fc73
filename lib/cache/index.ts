/**
 * The cache folder on disk (host side): the private folders deja keeps its files in, atomic
 * writes, and the V8 code cache. The bundler writes bundle files here; the sandbox reads and writes
 * the code cache of the bundles it compiles. A leaf: it knows only Node's file system.
 *
 * Files are content-addressed by the bundle's hash and always written as a temporary file renamed
 * into place, so several processes sharing one cache directory never see a partial file.
 *
 * The code cache is code that will run: V8 checks only that a cache was made from a script of the
 * same length, so a cache file someone else wrote would run their code. Two rules guard it:
 *
 * - A cache file starts with a header naming the SHA-256 of the exact bundle source it was made
 *   from, the V8 version and the SHA-256 of the V8 data after it. It is used only when all three
 *   match; otherwise it is deleted and the bundle compiles from source. This stops stale,
 *   mismatched, truncated and corrupt files.
 * - It is read and written only in a folder no one else can write: a real directory (not a
 *   symlink) owned by this user and not writable by group or others. This stops other users, who
 *   could otherwise write a header that matches. (Whoever can write to a folder that only this
 *   user can write to is this user already.) A folder that fails is not used: the cache goes to
 *   the per-user temporary folder instead, and a warning says why, once per folder.
 *
 * The default folders are also private for reading (0700): bundles hold the workflow code.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, describe } from '../errors';

/** What the code cache needs of a bundle: its source, and where its cache file belongs. */
export interface CodeCacheTarget {
  /** The script the cache is compiled from. */
  code: string;
  /** Where its V8 code cache lives, beside the bundle file. */
  codeCachePath: string;
}

/** `process.emitWarning` code of the warning that a folder is not used for the cache. */
export const UNSAFE_CACHE_DIR_WARNING = 'DEJA_UNSAFE_CACHE_DIR';

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

// ---- folders ----

/**
 * `<cwd>/node_modules/.cache/deja` when the project has a node_modules folder (the usual place
 * for tool caches), else a folder under the OS temporary directory.
 */
export function defaultCacheDir(cwd: string): string {
  const nodeModules = path.join(cwd, 'node_modules');
  return isDirectory(nodeModules) ? path.join(nodeModules, '.cache', 'deja') : fallbackCacheDir();
}

/**
 * One folder per user under the OS temporary directory: a folder shared by all users would let
 * one of them plant files for another. (On Windows the temporary directory is per user already.)
 */
export function fallbackCacheDir(): string {
  const uid = process.getuid?.();
  return path.join(os.tmpdir(), uid === undefined ? 'deja-cache' : `deja-cache-${uid}`);
}

/** The V8 version is in the name because V8 rejects a code cache made by another version. */
export function codeCachePathFor(dir: string, hash: string): string {
  return path.join(dir, `${hash}-v8-${process.versions.v8}.cache`);
}

const MISSING = Symbol('missing');

/**
 * Why no one but this user can be trusted to have written `dir`'s files, or undefined when they
 * can: a real directory owned by this user, not writable by group or others. MISSING when there
 * is no folder to hold a cache.
 */
function untrustedBecause(dir: string): string | typeof MISSING | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? MISSING : `it cannot be examined (${(err as Error).message})`;
  }
  // A file in the way holds no cache, like a missing folder: nothing to fall back from.
  if (stat.isFile()) return MISSING;
  const owner = ownershipProblem(stat);
  if (owner !== undefined) return owner;
  if (hasModeBits() && (stat.mode & 0o022) !== 0) return `it is writable by ${writers(stat.mode)} (mode ${modeOf(stat)})`;
  return undefined;
}

/** Not a real directory, or not this user's. (Windows has no POSIX owner and mode bits.) */
function ownershipProblem(stat: fs.Stats): string | undefined {
  if (stat.isSymbolicLink()) return 'it is a symbolic link';
  if (!stat.isDirectory()) return 'it is not a directory';
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `it belongs to user id ${stat.uid}, not to this user (${uid})`;
  return undefined;
}

const hasModeBits = (): boolean => process.getuid !== undefined;

/**
 * Makes one of the default folders ready: creates it private to this user (0700), or checks it
 * and makes it private. A folder of this user's that others could read is closed (chmod 0700); one
 * that others could write is closed and emptied, since any file in it may be theirs. Returns why
 * the folder cannot be used, `unsafe` when that is a matter of trust rather than a failed mkdir.
 */
export function preparePrivateDir(dir: string): { problem: string; unsafe: boolean } | undefined {
  let stat: fs.Stats;
  try {
    makeDir(dir);
    stat = fs.lstatSync(dir);
  } catch (err) {
    return { problem: (err as Error).message, unsafe: false };
  }
  // A plain file in the way is like an unwritable folder: nothing to warn about.
  if (stat.isFile()) return { problem: 'it is a file', unsafe: false };
  const problem = ownershipProblem(stat);
  if (problem !== undefined) return { problem, unsafe: true };
  if (!hasModeBits() || (stat.mode & 0o077) === 0) return undefined;
  const writable = (stat.mode & 0o022) !== 0;
  try {
    // Closed first: once nobody else can write, what is left to remove is all there is.
    fs.chmodSync(dir, 0o700);
    if (writable) {
      for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      warnOnce(
        dir,
        `deja: the cache folder ${dir} was writable by ${writers(stat.mode)} (mode ${modeOf(stat)}); ` +
          'it is now private to this user (0700) and was emptied, since its files could have been written by someone else',
      );
    }
  } catch (err) {
    return { problem: `it could not be made private to this user (${(err as Error).message})`, unsafe: true };
  }
  return undefined;
}

/** Creates `dir` (0700) and any missing parents (default mode); an existing one is left as it is. */
export function makeDir(dir: string): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

// ---- the V8 code cache ----

/** The code cache file's first line; the V8 data follows it. Latin-1, at most MAX_HEADER bytes. */
const CACHE_MAGIC = 'deja-v8-code-cache/1';
const CACHE_HEADER = /^deja-v8-code-cache\/1 source-sha256=([0-9a-f]{64}) v8=(\S+) data-sha256=([0-9a-f]{64})$/;
const MAX_HEADER = 512;

function cacheHeader(sourceHash: string, data: Uint8Array): string {
  return `${CACHE_MAGIC} source-sha256=${sourceHash} v8=${process.versions.v8} data-sha256=${sha256(data)}\n`;
}

/** The V8 data in `file` when its header matches the source and the data, else undefined. */
function cacheData(file: Buffer, sourceHash: string): Buffer | undefined {
  const end = file.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (end < 0) return undefined;
  const header = CACHE_HEADER.exec(file.toString('latin1', 0, end));
  if (header === null || header[1] !== sourceHash || header[2] !== process.versions.v8) return undefined;
  const data = file.subarray(end + 1);
  return data.length > 0 && sha256(data) === header[3] ? data : undefined;
}

/** The sha256 of exactly `bundle.code`, computed once per bundle object and code. */
const sourceHashes = new WeakMap<object, { code: string; hash: string }>();

/** Remembers that `hash` is the sha256 of `code`, the source of `bundle` (the bundler knows it already). */
export function rememberSourceHash(bundle: CodeCacheTarget, code: string, hash: string): void {
  sourceHashes.set(bundle, { code, hash });
}

function sourceHash(bundle: CodeCacheTarget): string {
  const known = sourceHashes.get(bundle);
  // The same string, usually: a pointer comparison. `bundle.hash` is not trusted on its own: the
  // record is a plain object, and code edited in memory with the old hash kept must not run the
  // cache of the old code.
  if (known !== undefined && known.code === bundle.code) return known.hash;
  const hash = sha256(bundle.code);
  sourceHashes.set(bundle, { code: bundle.code, hash });
  return hash;
}

/**
 * Where the code cache of `bundle` may be read (`write` false) or written: beside the bundle when
 * that folder is trusted, else in the per-user temporary folder, else nowhere.
 */
function codeCacheFile(bundle: CodeCacheTarget, write: boolean): string | undefined {
  const dir = path.dirname(path.resolve(bundle.codeCachePath));
  if (write) {
    try {
      makeDir(dir);
    } catch {
      return undefined; // Unwritable: the cache is an optimisation, skipped silently.
    }
  }
  const problem = untrustedBecause(dir);
  if (problem === undefined) return bundle.codeCachePath;
  if (problem === MISSING) return undefined;
  const fallback = fallbackCacheDir();
  const usable = fallback === dir ? { problem, unsafe: true } : write ? preparePrivateDir(fallback) : fallbackProblem(fallback);
  if (usable === undefined) {
    warnOnce(dir, `deja: the folder ${dir} is not used for the V8 code cache: ${problem}; using ${fallback} instead`);
    return path.join(fallback, path.basename(bundle.codeCachePath));
  }
  warnOnce(dir, `deja: the folder ${dir} is not used for the V8 code cache: ${problem}; the code cache is off for this bundle`);
  if (usable.unsafe && fallback !== dir) warnOnce(fallback, `deja: the cache folder ${fallback} is not used: ${usable.problem}`);
  return undefined;
}

/** Reading: the fallback folder is trusted or absent (then so is the file: no cache yet), or refused. */
function fallbackProblem(dir: string): { problem: string; unsafe: boolean } | undefined {
  const problem = untrustedBecause(dir);
  return problem === undefined || problem === MISSING ? undefined : { problem, unsafe: true };
}

/**
 * The cached V8 code for a bundle, or undefined when there is none, or it was not made from this
 * exact bundle source by this V8, or it is damaged, or its folder is not trusted. A bad file is
 * deleted. Never throws for a bad cache.
 */
export function readCodeCache(bundle: CodeCacheTarget): Buffer | undefined {
  checkTarget('readCodeCache', bundle);
  const file = codeCacheFile(bundle, false);
  if (file === undefined) return undefined;
  let contents: Buffer | undefined;
  try {
    contents = readOwnFile(file);
  } catch {
    return undefined; // Absent, or unreadable: compile from source.
  }
  const data = contents === undefined ? undefined : cacheData(contents, sourceHash(bundle));
  if (data === undefined) {
    try {
      fs.rmSync(file, { force: true });
    } catch {
      // Ignored: the next write replaces it anyway.
    }
  }
  return data;
}

/**
 * Stores the V8 code cache for a bundle, with its header. The cache is an optimisation, so a
 * directory that cannot be written (read-only, full, gone) is skipped silently: the next run
 * compiles without it.
 */
export function writeCodeCache(bundle: CodeCacheTarget, data: Buffer): void {
  checkTarget('writeCodeCache', bundle);
  if (!(data instanceof Uint8Array)) {
    throw new InvalidArgumentError(`writeCodeCache: expected data to be a Buffer, got ${describe(data)}`);
  }
  if (data.length === 0) return;
  const file = codeCacheFile(bundle, true);
  if (file === undefined) return;
  try {
    writeAtomic(file, Buffer.concat([Buffer.from(cacheHeader(sourceHash(bundle), data), 'latin1'), data]), 0o600);
  } catch {
    // Deliberately ignored; see above.
  }
}

/**
 * A file's contents, or undefined when it is not a regular file of this user's that only this
 * user can write. The checks are made on the open file, so the file checked is the file read.
 */
function readOwnFile(file: string): Buffer | undefined {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const uid = process.getuid?.();
    if (uid !== undefined && (stat.uid !== uid || (stat.mode & 0o022) !== 0)) return undefined;
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ---- helpers ----

function checkTarget(where: string, bundle: CodeCacheTarget): void {
  if (
    typeof bundle !== 'object' ||
    bundle === null ||
    typeof bundle.code !== 'string' ||
    typeof bundle.codeCachePath !== 'string' ||
    bundle.codeCachePath === '' ||
    bundle.codeCachePath.includes('\0')
  ) {
    throw new InvalidArgumentError(`${where}: expected a WorkflowBundle, got ${describe(bundle)}`);
  }
}

const warned = new Set<string>();
/** One warning per folder per process: a worker compiles once per isolate, and says it once. */
export function warnOnce(dir: string, message: string): void {
  if (warned.has(dir)) return;
  warned.add(dir);
  process.emitWarning(message, { type: 'DejaCacheWarning', code: UNSAFE_CACHE_DIR_WARNING });
}

function writers(mode: number): string {
  const who = [(mode & 0o020) !== 0 ? 'its group' : '', (mode & 0o002) !== 0 ? 'other users' : ''];
  return who.filter(Boolean).join(' and ');
}

function modeOf(stat: fs.Stats): string {
  return (stat.mode & 0o7777).toString(8).padStart(4, '0');
}

/** Write beside the target, then rename: rename within one directory replaces atomically. */
export function writeAtomic(file: string, data: string | Uint8Array, mode = 0o666): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
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

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
