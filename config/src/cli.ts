#!/usr/bin/env node
/**
 * The configuration's command line; loads nothing but this package (no server, no database driver):
 *   secret        print a fresh SECRET_KEY and nothing else (`export SECRET_KEY="$(npm run --silent secret)"`)
 *   check-config  load and check the configuration exactly as the server would at start; exit 1 on problems
 *   gen-config    rewrite .env.example, .env.local.example, docs/configuration.md and the README table from the schema
 *                 and the rules
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEnvExample, renderLocalEnvExample, withConfigTable, withRulesTable } from './docs.js';
import { ConfigError, loadConfig } from './load.js';
import { generateSecretKey } from './secrets.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The check-config verb, shared with the API's own CLI (server/src/cli.ts) for use inside its container. */
export function checkConfig(write: (text: string) => void): number {
  try {
    const config = loadConfig();
    for (const warning of config.warnings) write(`warning: ${warning}\n`);
    write(`configuration OK (database: ${config.database.kind}, DEBUG: ${config.debug})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

function run(verb: string | undefined): number {
  switch (verb) {
    case 'secret':
      process.stdout.write(`${generateSecretKey()}\n`);
      return 0;
    case 'check-config':
      return checkConfig((text) => process.stdout.write(text));
    case 'gen-config': {
      writeFileSync(resolve(repoRoot, '.env.example'), renderEnvExample());
      writeFileSync(resolve(repoRoot, '.env.local.example'), renderLocalEnvExample());
      for (const doc of ['README.md', 'docs/configuration.md']) {
        const path = resolve(repoRoot, doc);
        const text = withConfigTable(readFileSync(path, 'utf8'));
        writeFileSync(path, doc === 'docs/configuration.md' ? withRulesTable(text) : text);
      }
      process.stdout.write('wrote .env.example, .env.local.example, README.md and docs/configuration.md\n');
      return 0;
    }
    default:
      process.stderr.write('usage: config/dist/cli.js <secret | check-config | gen-config>\n');
      return 2;
  }
}

// Run only as a program, not when the API's CLI imports checkConfig.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(run(process.argv[2]));
