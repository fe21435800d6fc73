// The PostgreSQL Store (lib/backends/postgres) on a real server (test/support/postgres.ts): the
// backend conformance suite and the engine suite, unchanged; then what is PostgreSQL's own.
import t from 'tap';
import { PostgresStore } from '../lib/backends/postgres';
import { storeConformance } from './store-conformance';
import { engineSuite } from './engine-suite';
import { testDatabase } from './support/postgres';

void (async () => {
  const db = await testDatabase(t, 'store');
  if (!db) {
    t.skip('PostgreSQL is not installed and cannot be installed here: the PostgreSQL tests are skipped');
    return;
  }
  const stores = (options = {}) => async () => new PostgresStore(db.freshSchemaUrl(), options);
  t.test('conformance', async (t) => storeConformance(t, stores()));
  t.test('engine suite', async (t) => engineSuite(t, stores()));
})();
