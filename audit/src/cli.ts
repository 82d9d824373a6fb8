#!/usr/bin/env node
/**
 * The auditor's command line, as documented: `npm run check -- --deploy [options]`, which runs
 * `node audit/dist/cli.js check --deploy [options]`. Exit codes are run.ts's: 0 clean, 1 findings at or above
 * --fail-level, 2 the audit could not run. A configuration the loader cannot read is reported, not thrown.
 */
import { main } from './run.js';

const argv = process.argv.slice(2);
// `check` is the verb the docs have always used (`cli check --deploy`); it is optional here.
if (argv[0] === 'check') argv.shift();

main(argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`check: the audit failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
