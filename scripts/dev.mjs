/**
 * `npm run dev`: the API server (built, on 127.0.0.1:8000 unless PORT says otherwise, with the same .env and
 * defaults as `npm start`) and Vite's dev server for the client on http://127.0.0.1:5173 with hot reload,
 * forwarding /api/ to the API. Ctrl-C stops both; if either exits, the other is stopped too.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const apiPort = process.env.PORT ?? '8000';

const children = [
  spawn(process.execPath, ['server/dist/main.js'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PORT: apiPort },
  }),
  spawn('npx', ['vite'], {
    cwd: `${root}/client`,
    stdio: 'inherit',
    env: { ...process.env, API_URL: `http://127.0.0.1:${apiPort}` },
  }),
];

let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // SIGINT, as from a terminal: the API skips its load-balancer drain (SHUTDOWN_DRAIN), which a dev server has no use for.
  for (const child of children) if (child.exitCode === null) child.kill('SIGINT');
  process.exitCode = code;
}
for (const child of children) child.on('exit', (code) => stopAll(code ?? 0));
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
