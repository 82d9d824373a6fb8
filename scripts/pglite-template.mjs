#!/usr/bin/env node
/**
 * Part of `npm run build` (the root's, after the workspaces; not the server image's, which runs on PostgreSQL and
 * falls back to initdb if started embedded): runs PGlite's initdb and the app's migrations (server/dist/db/migrate.js, the code the
 * server runs) once into a throw-away directory and writes the result as server/dist/pglite-template.tar.gz (~5 MB). A new embedded database is unpacked from it (server/src/db/embedded.ts)
 * instead of running initdb in the server, whose WebAssembly heaps would keep initdb's ~550 MB for the life of the
 * process, and the migrations' index builds (~90 MB more). Made from the installed PGlite and the committed migrations,
 * so it matches the PostgreSQL that opens it and the schema the server expects (the server still runs its migrations
 * on start: with the template they find nothing to do). Skipped when newer than PGlite, the migrations and this script.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const server = resolve(dirname(fileURLToPath(import.meta.url)), '../server');
const out = join(server, 'dist/pglite-template.tar.gz');
const require = createRequire(join(server, 'package.json'));
const pgliteEntry = require.resolve('@electric-sql/pglite');
const pglitePackage = join(dirname(pgliteEntry), '../package.json');
const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};
const migrations = join(server, 'drizzle');
const inputs = [
  pglitePackage,
  fileURLToPath(import.meta.url),
  join(server, 'dist/db/migrate.js'),
  ...readdirSync(migrations, { recursive: true }).map((file) => join(migrations, String(file))),
];
if (mtime(out) <= Math.max(...inputs.map(mtime))) {
  const { PGlite } = await import(pgliteEntry);
  const { pg_trgm } = await import(require.resolve('@electric-sql/pglite/contrib/pg_trgm'));
  const { unaccent } = await import(require.resolve('@electric-sql/pglite/contrib/unaccent'));
  const { migrateEmbedded } = await import(join(server, 'dist/db/migrate.js'));
  const scratch = mkdtempSync(join(tmpdir(), 'ironclad-pglite-template-'));
  try {
    const db = await PGlite.create(join(scratch, 'pglite'), { extensions: { pg_trgm, unaccent } });
    await migrateEmbedded(db);
    const dump = await db.dumpDataDir('gzip');
    await db.close();
    writeFileSync(out, Buffer.from(await dump.arrayBuffer()));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
