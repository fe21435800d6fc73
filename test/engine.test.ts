// The engine suite (test/engine-suite.ts) on the memory store, and the engine's transaction
// working set (Op) on its own.
import t from 'tap';
import { MemoryStore } from '../lib/backends/memory';
import { engineSuite } from './engine-suite';

engineSuite(t, async () => new MemoryStore());
