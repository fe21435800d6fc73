/** The in-memory backend (host side): a Store kept in this process's memory. */
export { MemoryStore } from './memory-store';
