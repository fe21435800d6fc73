// The DejaWarnings about ignored options (code DEJA_IGNORED_OPTIONS) that a call causes.
import { IGNORED_OPTIONS_WARNING } from '../../lib/errors';

/** The DejaWarnings about ignored options that `fn` causes (they are emitted on a later tick). */
export async function warningsOf(fn: () => unknown): Promise<string[]> {
  const seen: string[] = [];
  const listen = (w: Error & { code?: string }) => {
    if (w.name === 'DejaWarning' && w.code === IGNORED_OPTIONS_WARNING) seen.push(w.message);
  };
  process.on('warning', listen);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listen);
  }
  return seen;
}
