/**
 * `deja migrate` (host side): creates or migrates the schema of a backend ahead of the workers
 * (which would do it on first use too), and says what it did. Exit 0 when the schema is current;
 * 2 for a bad backend string or a database deja cannot use (not reachable, another program's, a
 * newer deja's).
 */
import { InvalidArgumentError, StoreError } from '../errors';
import { migrateBackend } from '../wiring';
import { UsageError, parse, type Out } from './common';

export const MIGRATE_HELP = `Usage: deja migrate [--backend <backend>]

Creates the backend's schema, or migrates it to this deja's version, in one transaction; workers
do the same on first use. Run it ahead of a deploy that brings a new schema version. A database
of another program or of a newer deja is refused, unchanged.

  --backend <backend>      postgres://user:password@host:port/database[?schema=<name>] or
                           sqlite:<file> (default: DEJA_BACKEND, else the default backend)`;

export async function migrateCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('migrate', args, { backend: { type: 'string' } });
  if (values.help) {
    out.log(MIGRATE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`migrate: unexpected argument "${positionals[0]}"; expected only --backend <backend>`);
  const flag = typeof values.backend === 'string' ? values.backend : undefined;
  const env = process.env.DEJA_BACKEND || undefined;
  const [backend, from] = flag !== undefined ? [flag, ''] : env !== undefined ? [env, ' (from DEJA_BACKEND)'] : ['sqlite:', ' (the default)'];
  try {
    out.log(await migrateBackend(backend, from));
    return 0;
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(`migrate: ${error.message.replace(/^Connection: /, '')}`, { cause: error });
    if (error instanceof StoreError) throw new UsageError(`migrate: cannot migrate the backend: ${error.message}`, { cause: error });
    throw error;
  }
}
