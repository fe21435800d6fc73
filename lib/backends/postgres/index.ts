/** The PostgreSQL backend (host side): a Store in one database that workers on many machines share. */
export { PostgresStore, parseUrl, type PostgresStoreOptions, type DatabaseClock } from './postgres-store';
export { SCHEMA_VERSION, MIGRATIONS } from './schema';
export { DEFAULT_FEED, type FeedOptions } from './change-feed';
