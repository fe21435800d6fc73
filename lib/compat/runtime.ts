/**
 * Temporal's `Runtime` and `DefaultLogger` for `@temporalio/worker` under `deja/register` (host
 * side). Temporal's Runtime owns the native core; deja has none, so what is left is its logger:
 * `Runtime.install({ logger })` makes every worker created afterwards (through
 * `@temporalio/worker`'s `Worker.create`, without its own `logger`) send its lines, workflow
 * `log.*` lines included, to that logger. Telemetry options are accepted and named once in a
 * warning; `shutdownSignals` are deja's default already (SIGINT, SIGTERM, SIGQUIT, SIGUSR2).
 */
import { checkKnownKeys, describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import type { WorkerLogLine } from '../worker';

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogMetadata = Record<string | symbol, unknown>;

/** Temporal's logger interface: `log(level, message, meta)` and one method per level. */
export interface Logger {
  log(level: LogLevel, message: string, meta?: LogMetadata): unknown;
  trace(message: string, meta?: LogMetadata): unknown;
  debug(message: string, meta?: LogMetadata): unknown;
  info(message: string, meta?: LogMetadata): unknown;
  warn(message: string, meta?: LogMetadata): unknown;
  error(message: string, meta?: LogMetadata): unknown;
}

export interface LogEntry {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
  /** Nanoseconds since the epoch, as Temporal's. */
  timestampNanos: bigint;
}

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

function checkLevel(where: string, level: unknown): LogLevel {
  if (typeof level !== 'string' || !LEVELS.includes(level as LogLevel)) {
    throw new InvalidArgumentError(`${where}: level must be one of ${LEVELS.map((l) => `'${l}'`).join(', ')}, got ${describe(level)}`);
  }
  return level as LogLevel;
}

function printEntry(entry: LogEntry): void {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = entry.meta !== undefined && Object.keys(entry.meta).length > 0 ? ` ${JSON.stringify(entry.meta)}` : '';
  const line = `${time} [${entry.level}] ${entry.message}${meta}`;
  if (entry.level === 'WARN' || entry.level === 'ERROR') console.error(line);
  else console.log(line);
}

/** Logs entries at `level` or above, to `fn` (default: one line on stdout, or stderr for WARN and ERROR). */
export class DefaultLogger implements Logger {
  readonly level: LogLevel;
  private readonly fn: (entry: LogEntry) => void;

  constructor(level: LogLevel = 'INFO', fn: (entry: LogEntry) => void = printEntry) {
    this.level = checkLevel('DefaultLogger', level);
    if (typeof fn !== 'function') throw new InvalidArgumentError(`DefaultLogger: the second argument must be a function (entry) => void, got ${describe(fn)}`);
    this.fn = fn;
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (LEVELS.indexOf(checkLevel('DefaultLogger.log', level)) < LEVELS.indexOf(this.level)) return;
    const entry: LogEntry = { level, message, timestampNanos: BigInt(Date.now()) * 1_000_000n };
    if (meta !== undefined) entry.meta = meta;
    this.fn(entry);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface RuntimeOptions {
  /** Where workers created afterwards send their log lines. Default: deja's worker's own printing. */
  logger?: Logger;
  /** deja's workers shut down on SIGINT, SIGTERM, SIGQUIT and SIGUSR2 already; another list is named in a warning. */
  shutdownSignals?: NodeJS.Signals[];
  /** Temporal's core telemetry (metrics, core logs): accepted, named once in a warning. */
  telemetryOptions?: unknown;
}

const RUNTIME_OPTION_KEYS = ['logger', 'shutdownSignals', 'telemetryOptions'] as const;

function checkLogger(where: string, logger: unknown): Logger {
  const l = logger as Record<string, unknown> | null;
  if (typeof l !== 'object' || l === null || typeof l.log !== 'function') {
    throw new InvalidArgumentError(`${where}: logger must have a log(level, message, meta) method (a DefaultLogger, say), got ${describe(logger)}`);
  }
  return logger as Logger;
}

let installed: Runtime | undefined;

/** Temporal's process-wide Runtime: here, the holder of the logger workers use. */
export class Runtime {
  readonly logger: Logger | undefined;
  readonly options: Readonly<RuntimeOptions>;

  private constructor(options: RuntimeOptions) {
    this.options = Object.freeze({ ...options });
    this.logger = options.logger;
  }

  /** Sets the process's Runtime; a later install replaces it (for workers created after it). */
  static install(options: RuntimeOptions = {}): Runtime {
    const where = 'Runtime.install';
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${where}: expected an options object ({ logger? }), got ${describe(options)}`);
    checkKnownKeys(where, options, RUNTIME_OPTION_KEYS);
    if (options.logger !== undefined) checkLogger(where, options.logger);
    if (options.telemetryOptions !== undefined) warnIgnoredOptions(where, ['telemetryOptions'], 'deja has no native core to report metrics or core logs from');
    if (options.shutdownSignals !== undefined) warnIgnoredOptions(where, ['shutdownSignals'], "deja's workers shut down on SIGINT, SIGTERM, SIGQUIT and SIGUSR2");
    installed = new Runtime(options);
    return installed;
  }

  /** The installed Runtime, installing a default one first if there is none. */
  static instance(): Runtime {
    return installed ?? Runtime.install();
  }
}

/** The installed Runtime's logger as a deja worker logger, or undefined when none was installed. */
export function runtimeWorkerLogger(): ((line: WorkerLogLine) => void) | undefined {
  const logger = installed?.logger;
  if (logger === undefined) return undefined;
  return (line) => {
    const level = (line.level.toUpperCase() as LogLevel);
    const meta: LogMetadata = {};
    if (line.workflowId !== '') meta.workflowId = line.workflowId;
    if (line.runId !== undefined) meta.runId = line.runId;
    if (line.workflowType !== undefined) meta.workflowType = line.workflowType;
    const message = typeof line.stack === 'string' ? `${line.message}\n${line.stack}` : line.message;
    logger.log(LEVELS.includes(level) ? level : 'INFO', message, meta);
  };
}

export interface MakeTelemetryFilterStringOptions {
  /** Level for Temporal's core crates. */
  core: LogLevel;
  /** Level for everything else (default 'ERROR'). */
  other?: LogLevel;
}

/**
 * Temporal's helper for `telemetryOptions.logging.filter`: the filter string its native core reads
 * (`<other>,temporal_sdk_core=<core>,temporal_client=<core>,temporal_sdk=<core>`). deja has no native
 * core, so the string is only passed to `Runtime.install`, which names `telemetryOptions` in a warning.
 */
export function makeTelemetryFilterString(options: MakeTelemetryFilterStringOptions): string {
  const where = 'makeTelemetryFilterString';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${where}: expected an options object ({ core, other? }), got ${describe(options)}`);
  checkKnownKeys(where, options, ['core', 'other']);
  const core = checkLevel(`${where}: core`, options.core);
  const other = options.other === undefined ? 'ERROR' : checkLevel(`${where}: other`, options.other);
  return `${other},temporal_sdk_core=${core},temporal_client=${core},temporal_sdk=${core}`;
}
