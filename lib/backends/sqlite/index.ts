/** The embedded SQLite backend (host side): a Store in one file that several processes share. */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store';
export { SCHEMA_VERSION, DEJA_APPLICATION_ID, type Synchronous } from './schema';
export { DEFAULT_POLL, type PollOptions } from './change-feed';
