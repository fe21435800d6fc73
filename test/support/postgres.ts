// A PostgreSQL database for a test file (host side). `npm test` (scripts/test.js) starts one
// private server for the whole run and names it in DEJA_TEST_POSTGRES_URL; a test file run on its
// own starts its own (scripts/postgres.js) and stops it when it ends. Each test file gets a
// database of its own, dropped at the end; each store in it a schema of its own.
import type tap from 'tap';
import { Client } from 'pg';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const server = require('../../scripts/postgres.js') as {
  startServer(): Promise<{ url: string; ctl: unknown; stop(): void; restart(): void } | undefined>;
  restartFromEnv(env?: NodeJS.ProcessEnv): void;
};

export interface TestDatabase {
  /** The database's URL. */
  url: string;
  /** A URL on the same server naming another database. */
  urlOf(database: string): string;
  /** Runs SQL on the server's `postgres` database, as the superuser. */
  admin(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  /** Stops the server at once (as a crash would) and starts it again. */
  restart(): void;
  /** A URL whose store gets a fresh schema: `?schema=s<n>`. */
  freshSchemaUrl(): string;
}

let schemas = 0;

/** The test file's database, or undefined (the file is then skipped, loudly) when no server can run. */
export async function testDatabase(t: tap.Test, name: string): Promise<TestDatabase | undefined> {
  let base = process.env.DEJA_TEST_POSTGRES_URL;
  let restart = () => server.restartFromEnv();
  if (!base) {
    const own = await server.startServer();
    if (!own) return undefined;
    t.teardown(() => own.stop());
    base = own.url;
    restart = () => own.restart();
  }
  const database = `deja_${name}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const urlOf = (db: string) => {
    const u = new URL(base!);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const admin = async (sql: string, values?: unknown[]) => {
    const client = new Client({ connectionString: base });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${database}`);
  await admin(`CREATE DATABASE ${database}`);
  t.teardown(async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
  });
  const url = urlOf(database);
  return { url, urlOf, admin, restart, freshSchemaUrl: () => `${url}?schema=s${++schemas}` };
}
