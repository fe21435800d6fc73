// The SQLite Store (lib/backends/sqlite) on real files in a temporary folder: the backend
// conformance suite and the engine suite, unchanged; then what is SQLite's own: the schema's
// version and migration, refusals of bad input that leave the file untouched, locks, a full disk,
// and processes sharing one file.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteStore } from '../lib/backends/sqlite';
import { storeConformance } from './store-conformance';
import { engineSuite } from './engine-suite';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-sqlite-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = (name = 'store') => path.join(dir, `${name}-${++files}.db`);

t.test('conformance', async (t) => storeConformance(t, async () => new SqliteStore(newFile('conformance'))));
t.test('engine suite', async (t) => engineSuite(t, async () => new SqliteStore(newFile('engine'))));
