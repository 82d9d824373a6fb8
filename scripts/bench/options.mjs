/** The bench's command line, parsed without side effects (so the smoke test can check it). */
import { parseArgs } from 'node:util';

const positive = (name, text) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not ${text}`);
  return value;
};
const atLeast0 = (name, text) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be an integer >= 0, not ${text}`);
  return value;
};

/**
 * `npm run bench -- [--duration S] [--rounds N] [--connections C] [--only TEXT] [--api PATH]` (PATH: another
 * build's server/dist/main.js, to measure a change before and after against the same floors) `[--node-arg=FLAG]...
 * [--api-env KEY=VALUE]...` (the API's process only: a V8 flag or an environment setting, measured against the same
 * floors; write `--node-arg=--flag` with `=`, since a value starting with `-` is otherwise taken as an option; not
 * used by --scale), or with `--scale` the growth
 * benchmark: `[--scale-users N] [--scale-tasks M] [--heavy-tasks H] [--samples K] [--keep]
 * [--scale-db NAME]` (NAME: a database kept by an earlier run with the same sizes: measure again without seeding).
 */
export function benchOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '16' },
      only: { type: 'string' },
      api: { type: 'string' },
      'node-arg': { type: 'string', multiple: true, default: [] },
      'api-env': { type: 'string', multiple: true, default: [] },
      scale: { type: 'boolean', default: false },
      'scale-users': { type: 'string', default: '100000' },
      'scale-tasks': { type: 'string', default: '10000000' },
      'heavy-tasks': { type: 'string', default: '50000' },
      samples: { type: 'string', default: '200' },
      keep: { type: 'boolean', default: false },
      'scale-db': { type: 'string' },
    },
  });
  const options = {
    duration: positive('duration', values.duration),
    rounds: positive('rounds', values.rounds),
    connections: positive('connections', values.connections),
    only: values.only,
    api: values.api,
    nodeArgs: values['node-arg'],
    apiEnv: Object.fromEntries(
      values['api-env'].map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--api-env takes KEY=VALUE, not ${pair}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
    scale: values.scale,
    keep: values.keep,
  };
  if (!values.scale) return options;
  const users = positive('scale-users', values['scale-users']);
  const tasks = atLeast0('scale-tasks', values['scale-tasks']);
  return {
    ...options,
    users,
    tasks,
    heavyTasks: positive('heavy-tasks', values['heavy-tasks']),
    samples: positive('samples', values.samples),
    db: values['scale-db'],
  };
}
