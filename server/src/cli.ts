/**
 * The API's command line inside its image: `node dist/cli.js <verb>`. Each verb loads only what it uses
 * (the server's HTTP stack is never loaded here).
 *   secret        print a fresh SECRET_KEY
 *   check-config  load and check the configuration exactly as `start` would; exit 1 on problems
 *   migrate       apply database migrations and exit
 * The deploy audit (`check --deploy`) is its own package: audit/ (docs/audit.md).
 */
import { exitWithConfigError } from './lifecycle/exit.js';

async function run(verb: string | undefined): Promise<number> {
  switch (verb) {
    case 'secret': {
      const { generateSecretKey } = await import('@ironclad/config/secrets');
      process.stdout.write(`${generateSecretKey()}\n`);
      return 0;
    }
    case 'check-config': {
      const { checkConfig } = await import('@ironclad/config/cli');
      return checkConfig((text) => process.stdout.write(text));
    }
    case 'migrate': {
      const { migrateOnce } = await import('./lifecycle/migrate-once.js');
      await migrateOnce();
      process.stdout.write('migrations applied\n');
      return 0;
    }
    case 'check':
      process.stderr.write(
        'check --deploy is not part of the API image: run it from a checkout (`npm run check -- --deploy`, docs/audit.md)\n',
      );
      return 2;
    default:
      process.stderr.write('usage: cli <secret | check-config | migrate>\n');
      return 2;
  }
}

run(process.argv[2]).then(
  (code) => process.exit(code),
  (error) => exitWithConfigError(error),
);
