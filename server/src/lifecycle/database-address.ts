import type { Config } from '@ironclad/config/load';

/**
 * Where the server tried to reach PostgreSQL, in the words of the settings that chose it (`DB_HOST=db` is what a
 * newcomer who copied the production example has to see). Host and port only: never the user or the password.
 */
export function databaseAddress(config: Config): string {
  const target = config.databaseTarget;
  if (target.kind !== 'postgres') return 'the embedded database';
  const where = `${target.host ?? 'localhost'}:${target.port ?? 5432}`;
  return target.from === 'DATABASE_URL' ? `${where} (from DATABASE_URL)` : `${where} (DB_HOST, DB_PORT)`;
}
