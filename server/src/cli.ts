/**
 * The server's command line: `node dist/cli.js <verb>`.
 *   secret       print a fresh SECRET_KEY
 *   check-config load and check the configuration exactly as `start` would; exit 1 on problems
 *   migrate      apply database migrations and exit
 *   gen-config   rewrite .env.example, docs/configuration.md and the README table from the schema
 *   check        `check --deploy [options]`: audit configuration, files and a live URL (docs/audit.md)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEnvExample, withConfigTable } from './config/docs.js';
import { loadConfig } from './config/load.js';
import { resolveSecretKey } from './config/secret-key.js';
import { generateSecretKey } from './config/secrets.js';
import { openDatabase } from './db/connect.js';
import { exitWithConfigError } from './server.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

async function run(verb: string | undefined): Promise<number> {
  switch (verb) {
    case 'check': {
      // Loaded on demand: the auditor pulls in secretlint, which the other verbs do not need.
      const { main } = await import('./audit/run.js');
      return main(process.argv.slice(3));
    }
    case 'secret':
      process.stdout.write(`${generateSecretKey()}\n`);
      return 0;
    case 'check-config': {
      const config = loadConfig();
      for (const warning of config.warnings) process.stdout.write(`warning: ${warning}\n`);
      process.stdout.write(`configuration OK (database: ${config.database.kind}, DEBUG: ${config.debug})\n`);
      return 0;
    }
    case 'migrate': {
      const config = loadConfig();
      resolveSecretKey(config);
      const v = config.values;
      const database = await openDatabase(config.database, {
        poolMax: 1,
        connectTimeoutMs: v.DB_CONNECT_TIMEOUT,
        queryTimeoutMs: v.DB_QUERY_TIMEOUT,
      });
      await database.migrate();
      await database.close();
      process.stdout.write('migrations applied\n');
      return 0;
    }
    case 'gen-config': {
      writeFileSync(resolve(repoRoot, '.env.example'), renderEnvExample());
      for (const doc of ['README.md', 'docs/configuration.md']) {
        const path = resolve(repoRoot, doc);
        writeFileSync(path, withConfigTable(readFileSync(path, 'utf8')));
      }
      process.stdout.write('wrote .env.example, README.md and docs/configuration.md\n');
      return 0;
    }
    default:
      process.stderr.write('usage: cli <secret | check-config | check --deploy | migrate | gen-config>\n');
      return 2;
  }
}

run(process.argv[2]).then(
  (code) => process.exit(code),
  (error) => exitWithConfigError(error),
);
