/** How every verb ends on a configuration it refuses: the loader's one message on stderr, exit 1, nothing else. */
import { ConfigError } from '@ironclad/config/load';

export function exitWithConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
