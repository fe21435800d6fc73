// The in-memory Store against the backend conformance suite.
import t from 'tap';
import { MemoryStore } from '../lib/backends/memory';
import { storeConformance } from './store-conformance';

storeConformance(t, async () => new MemoryStore());
