/**
 * What `@temporalio/envconfig` resolves to under `deja/register` (host side): Temporal's client
 * configuration profiles, read from the same places (a TOML file, then `TEMPORAL_*` environment
 * variables over it), and turned into the options `Connection.connect`, `NativeConnection.connect`
 * and `new Client` take. Nearly every Temporal sample's client starts with
 * `Connection.connect(loadClientConnectConfig().connectionOptions)`.
 *
 * deja reads the address by its own rule (absent or `localhost:7233`: the default backend; a
 * backend string: that backend; any other host:port: an error), so a profile that names a server
 * fails at connect, not here. TLS, API keys and gRPC metadata pass through to the connection,
 * which accepts them and names them once in a warning. The codec table is read and not used.
 *
 * The file is the small TOML subset these files use: `[profile.NAME]`, `[profile.NAME.tls]`,
 * `[profile.NAME.codec]` and `[profile.NAME.grpc_meta]` tables of `key = "string"`, `'string'`,
 * `true`/`false` or integers, with `#` comments. Anything else is refused with the line number.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { NativeConnectionOptions } from '../worker';

/** A path to a file, or its contents. */
export type ConfigDataSource = { path: string } | { data: string | Uint8Array };

export interface ClientConfigTLS {
  disabled?: boolean;
  serverName?: string;
  clientCert?: ConfigDataSource;
  clientKey?: ConfigDataSource;
  serverCACert?: ConfigDataSource;
}

export interface ClientConfigProfile {
  address?: string;
  namespace?: string;
  apiKey?: string;
  tls?: ClientConfigTLS;
  grpcMeta?: Record<string, string>;
}

export interface ClientConfig {
  profiles: Record<string, ClientConfigProfile>;
}

/** What `loadClientConnectConfig` returns: spread `connectionOptions` into `connect`, `namespace` into `new Client`. */
export interface ClientConnectConfig {
  connectionOptions: NativeConnectionOptions;
  namespace?: string;
}

export interface LoadClientProfileOptions {
  /** Default: `TEMPORAL_PROFILE`, else "default". */
  profile?: string;
  /** The TOML file (path or contents) to read instead of `TEMPORAL_CONFIG_FILE` or the default file. */
  configSource?: ConfigDataSource;
  disableFile?: boolean;
  disableEnv?: boolean;
  /** Refuse keys this module does not know. */
  configFileStrict?: boolean;
  /** The environment to read instead of `process.env`. */
  overrideEnvVars?: Record<string, string>;
}

export interface LoadClientConfigOptions {
  configSource?: ConfigDataSource;
  configFileStrict?: boolean;
  overrideEnvVars?: Record<string, string>;
}

export interface ClientConfigFromTomlOptions {
  strict: boolean;
}

type Table = { [key: string]: string | number | boolean | Table };

const PROFILE_KEYS = ['address', 'namespace', 'api_key', 'tls', 'codec', 'grpc_meta'];
const TLS_KEYS = ['disabled', 'client_cert_path', 'client_cert_data', 'client_key_path', 'client_key_data', 'server_ca_cert_path', 'server_ca_cert_data', 'server_name', 'disable_host_verification'];
const CODEC_KEYS = ['endpoint', 'auth'];

function fail(message: string): never {
  throw new InvalidArgumentError(`@temporalio/envconfig (deja): ${message}`);
}

function parseValue(raw: string, where: string): string | number | boolean {
  const v = raw.trim();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^[+-]?\d+$/.test(v)) return Number(v);
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2 && !v.slice(1, -1).includes("'")) return v.slice(1, -1);
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      const s: unknown = JSON.parse(v);
      if (typeof s === 'string') return s;
    } catch {
      // fall through to the error below
    }
  }
  return fail(`${where}: expected a quoted string, true, false or an integer, got ${v}`);
}

/** Reads the TOML subset described in the header; the line number names what it refuses. */
function parseToml(text: string): Table {
  const root: Table = {};
  let current = root;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    // A # outside quotes starts a comment.
    const line = lines[i]!.replace(/^((?:[^#"']|"(?:[^"\\]|\\.)*"|'[^']*')*)#.*$/, '$1').trim();
    if (line === '') continue;
    const header = /^\[\s*([A-Za-z0-9_.\-"' ]+?)\s*\]$/.exec(line);
    if (header) {
      current = root;
      for (const part of header[1]!.split('.').map((p) => p.trim().replace(/^["'](.*)["']$/, '$1'))) {
        if (part === '') fail(`${where}: an empty table name part in ${line}`);
        const next = current[part];
        if (next === undefined) current = current[part] = {};
        else if (typeof next === 'object') current = next;
        else fail(`${where}: ${part} is a value, not a table`);
      }
      continue;
    }
    const pair = /^("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!pair) fail(`${where}: expected [table] or key = value, got ${line}`);
    const key = pair[1]!.replace(/^["'](.*)["']$/, '$1');
    current[key] = parseValue(pair[2]!, where);
  }
  return root;
}

function tableAt(value: unknown, where: string): Table | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) fail(`${where} must be a table, got ${describe(value)}`);
  return value as Table;
}

function stringAt(table: Table, key: string, where: string): string | undefined {
  const v = table[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`${where}.${key} must be a string, got ${describe(v)}`);
  return v;
}

function profileFromToml(name: string, raw: Table, strict: boolean): ClientConfigProfile {
  const where = `profile.${name}`;
  const unknown = (table: Table, keys: string[], at: string) => {
    const extra = Object.keys(table).filter((k) => !keys.includes(k));
    if (strict && extra.length > 0) fail(`unknown key(s) in ${at}: ${extra.join(', ')}`);
  };
  unknown(raw, PROFILE_KEYS, where);
  const profile: ClientConfigProfile = {};
  const address = stringAt(raw, 'address', where);
  if (address !== undefined) profile.address = address;
  const namespace = stringAt(raw, 'namespace', where);
  if (namespace !== undefined) profile.namespace = namespace;
  const apiKey = stringAt(raw, 'api_key', where);
  if (apiKey !== undefined) profile.apiKey = apiKey;
  const tls = tableAt(raw.tls, `${where}.tls`);
  if (tls) {
    unknown(tls, TLS_KEYS, `${where}.tls`);
    profile.tls = tlsFromFlat(tls, `${where}.tls`);
  }
  const codec = tableAt(raw.codec, `${where}.codec`);
  if (codec) unknown(codec, CODEC_KEYS, `${where}.codec`);
  const meta = tableAt(raw.grpc_meta, `${where}.grpc_meta`);
  if (meta) {
    profile.grpcMeta = {};
    for (const key of Object.keys(meta)) profile.grpcMeta[metaKey(key)] = stringAt(meta, key, `${where}.grpc_meta`)!;
  }
  return profile;
}

/** TLS from snake_case keys (a TOML table, or the environment variables with their prefix cut). */
function tlsFromFlat(flat: Table, where: string): ClientConfigTLS {
  const tls: ClientConfigTLS = {};
  if (flat.disabled !== undefined) {
    if (typeof flat.disabled !== 'boolean') fail(`${where}.disabled must be true or false, got ${describe(flat.disabled)}`);
    tls.disabled = flat.disabled;
  }
  const serverName = stringAt(flat, 'server_name', where);
  if (serverName !== undefined) tls.serverName = serverName;
  const source = (name: string): ConfigDataSource | undefined => {
    const p = stringAt(flat, `${name}_path`, where);
    const d = stringAt(flat, `${name}_data`, where);
    if (p !== undefined && d !== undefined) fail(`${where}: give ${name}_path or ${name}_data, not both`);
    return p !== undefined ? { path: p } : d !== undefined ? { data: d } : undefined;
  };
  const clientCert = source('client_cert');
  if (clientCert) tls.clientCert = clientCert;
  const clientKey = source('client_key');
  if (clientKey) tls.clientKey = clientKey;
  const serverCACert = source('server_ca_cert');
  if (serverCACert) tls.serverCACert = serverCACert;
  return tls;
}

function metaKey(key: string): string {
  return key.toLowerCase().replace(/_/g, '-');
}

function dataOf(source: ConfigDataSource, where: string): string {
  if (typeof source !== 'object' || source === null) fail(`${where} must be { path } or { data }, got ${describe(source)}`);
  if ('path' in source) return fs.readFileSync(source.path, 'utf8');
  if (typeof source.data === 'string') return source.data;
  if (source.data instanceof Uint8Array) return Buffer.from(source.data).toString('utf8');
  return fail(`${where}: data must be a string or bytes, got ${describe(source.data)}`);
}

/** Where Temporal's tools keep the file on this platform. */
function defaultConfigFile(env: Record<string, string | undefined>): string | undefined {
  if (process.platform === 'win32') return env.APPDATA ? path.join(env.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  const home = env.HOME ?? os.homedir();
  if (process.platform === 'darwin') return home ? path.join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const base = env.XDG_CONFIG_HOME || (home ? path.join(home, '.config') : undefined);
  return base ? path.join(base, 'temporalio', 'temporal.toml') : undefined;
}

function readConfigText(options: LoadClientConfigOptions): string | undefined {
  if (options.configSource !== undefined) return dataOf(options.configSource, 'configSource');
  const env = options.overrideEnvVars ?? process.env;
  const file = env.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(env);
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Parses a config file's text into its profiles. */
export function loadClientConfigFromToml(tomlData: Uint8Array | string, options: ClientConfigFromTomlOptions = { strict: false }): ClientConfig {
  const text = typeof tomlData === 'string' ? tomlData : Buffer.from(tomlData).toString('utf8');
  const root = parseToml(text);
  const extra = Object.keys(root).filter((k) => k !== 'profile');
  if (options.strict && extra.length > 0) fail(`unknown top-level key(s): ${extra.join(', ')}`);
  const profiles: Record<string, ClientConfigProfile> = {};
  const raw = tableAt(root.profile, 'profile') ?? {};
  for (const [name, value] of Object.entries(raw)) profiles[name] = profileFromToml(name, tableAt(value, `profile.${name}`)!, options.strict);
  return { profiles };
}

/** Every profile of the config file (`configSource`, else `TEMPORAL_CONFIG_FILE`, else the default file; none is no profiles). */
export function loadClientConfig(options: LoadClientConfigOptions = {}): ClientConfig {
  checkKnownKeys('loadClientConfig', options, ['configSource', 'configFileStrict', 'overrideEnvVars']);
  const text = readConfigText(options);
  return text === undefined ? { profiles: {} } : loadClientConfigFromToml(text, { strict: options.configFileStrict ?? false });
}

/** One profile: the file's (unless `disableFile`), with the `TEMPORAL_*` variables over it (unless `disableEnv`). */
export function loadClientConfigProfile(options: LoadClientProfileOptions = {}): ClientConfigProfile {
  checkKnownKeys('loadClientConfigProfile', options, ['profile', 'configSource', 'disableFile', 'disableEnv', 'configFileStrict', 'overrideEnvVars']);
  if (options.disableFile && options.disableEnv) fail('disableFile and disableEnv together leave nothing to load');
  const env = options.overrideEnvVars ?? process.env;
  let profile: ClientConfigProfile = {};
  if (!options.disableFile) {
    const config = loadClientConfig({ configSource: options.configSource, configFileStrict: options.configFileStrict, overrideEnvVars: options.overrideEnvVars });
    const name = options.profile ?? env.TEMPORAL_PROFILE;
    const found = config.profiles[name ?? 'default'];
    if (found === undefined && name !== undefined) fail(`profile "${name}" is not in the config file (it has: ${Object.keys(config.profiles).join(', ') || 'none'})`);
    profile = found ?? {};
  }
  if (!options.disableEnv) {
    if (env.TEMPORAL_ADDRESS !== undefined) profile.address = env.TEMPORAL_ADDRESS;
    if (env.TEMPORAL_NAMESPACE !== undefined) profile.namespace = env.TEMPORAL_NAMESPACE;
    if (env.TEMPORAL_API_KEY !== undefined) profile.apiKey = env.TEMPORAL_API_KEY;
    const flat: Table = {};
    const bool = (v: string) => v === '1' || v === 'true';
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) continue;
      if (key === 'TEMPORAL_TLS') flat.disabled = !bool(value);
      else if (key === 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION') continue;
      else if (key.startsWith('TEMPORAL_TLS_')) flat[key.slice('TEMPORAL_TLS_'.length).toLowerCase()] = value;
      else if (key.startsWith('TEMPORAL_GRPC_META_')) {
        const name = metaKey(key.slice('TEMPORAL_GRPC_META_'.length));
        profile.grpcMeta ??= {};
        if (value === '') delete profile.grpcMeta[name];
        else profile.grpcMeta[name] = value;
      }
    }
    if (Object.keys(flat).length > 0) profile.tls = { ...profile.tls, ...tlsFromFlat(flat, 'TEMPORAL_TLS_*') };
  }
  return profile;
}

/** A profile as connection options and a namespace; only what the profile sets is present. */
export function toClientOptions(profile: ClientConfigProfile): ClientConnectConfig {
  const connectionOptions: Record<string, unknown> = {};
  if (profile.address !== undefined) connectionOptions.address = profile.address;
  if (profile.apiKey !== undefined) connectionOptions.apiKey = profile.apiKey;
  if (profile.tls !== undefined) connectionOptions.tls = profile.tls.disabled === true ? false : profile.tls;
  else if (profile.apiKey !== undefined) connectionOptions.tls = true;
  if (profile.grpcMeta !== undefined && Object.keys(profile.grpcMeta).length > 0) connectionOptions.metadata = profile.grpcMeta;
  const config: ClientConnectConfig = { connectionOptions: connectionOptions as NativeConnectionOptions };
  if (profile.namespace !== undefined) config.namespace = profile.namespace;
  return config;
}

/** `loadClientConfigProfile` then `toClientOptions`: what a sample's client.ts calls first. */
export function loadClientConnectConfig(options: LoadClientProfileOptions = {}): ClientConnectConfig {
  return toClientOptions(loadClientConfigProfile(options));
}

/** The bytes a ConfigDataSource names (a certificate file, say), or undefined. */
export function loadConfigData(source: ConfigDataSource | undefined): Buffer | undefined {
  if (source === undefined) return undefined;
  if (typeof source !== 'object' || source === null) throw new InvalidArgumentError(`loadConfigData: expected { path } or { data }, got ${describe(source)}`);
  return Buffer.from(dataOf(source, 'loadConfigData'), 'utf8');
}
