#!/usr/bin/env node
/**
 * npm run bench: the API beside two floors on one throw-away PostgreSQL database, loaded by wrk on
 * loopback, back to back within each round (API, same-SQL floor, minimal floor), several rounds, medians
 * quoted: scripts/bench/floor.mjs runs the API's own SQL (framework and hardening cost), minimal-floor.mjs
 * the least work the feature needs (everything's cost, the SQL's shape included). Also: the login storm,
 * the embedded database, start-up time, and two processes. `--scale` runs the growth benchmark instead
 * (scripts/bench/scale.mjs).
 *
 *   npm run bench -- --duration 5 --rounds 3 --connections 16
 *   npm run bench -- --scale --scale-users 100000 --scale-tasks 10000000
 *
 * Prints a table and writes artifacts/bench-<time>.{md,json}. Needs wrk (installed with apt-get
 * when missing and running as root) and PostgreSQL at TEST_PG_HOST:TEST_PG_PORT (127.0.0.1:5432).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admin, memoryMb, parseWrk, pgConfig } from '../lib.mjs';
import { benchOptions } from './options.mjs';
import { ratios, resultsTable, spreadLines } from './report.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = benchOptions(process.argv.slice(2));
if (args.scale) {
  const { runScale } = await import('./scale.mjs');
  await runScale(args);
  process.exit(0);
}
const DURATION = args.duration;
const ROUNDS = args.rounds;
const CONNECTIONS = args.connections;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return;
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if (error.code !== 'ENOENT') return;
  }
  if (process.getuid?.() !== 0) throw new Error('wrk is not installed: apt-get install wrk');
  console.log('installing wrk (apt-get)…');
  execFileSync(
    'sh',
    [
      '-c',
      'apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null)',
    ],
    {
      stdio: 'inherit',
    },
  );
}

const children = new Set();
function startProcess(script, env, pattern, nodeArgs = []) {
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: mkdtempSync(join(tmpdir(), 'ironclad-bench-')),
    env: { PATH: process.env.PATH, PORT: '0', SHUTDOWN_DRAIN: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((done, fail) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`${script} did not start`)), 30_000);
    child.stdout.on('data', (chunk) => {
      if (seen === null) return; // keep draining the per-request log lines
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        seen = null;
        done({ child, url: match[1], startMs: Date.now() - started });
      }
    });
  });
}

async function stopProcess(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
}

/** Runs `work` while sampling the process's resident memory; returns the work's result and the highest sample. */
async function withRss(pid, work) {
  let highest = memoryMb(pid);
  const timer = setInterval(() => {
    highest = Math.max(highest, memoryMb(pid));
  }, 100);
  try {
    const result = await work();
    return { ...result, rssMb: Math.max(highest, memoryMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}

async function post(url, path, body, headers = {}) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return response.json();
}

const scriptsDir = mkdtempSync(join(tmpdir(), 'ironclad-wrk-'));
function luaFor(method, body) {
  const file = join(scriptsDir, `${method}-${randomBytes(4).toString('hex')}.lua`);
  writeFileSync(
    file,
    `wrk.method = "${method}"\nwrk.body = '${body}'\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  return file;
}

function wrk(url, path, { token, script, connections = CONNECTIONS, duration = DURATION }) {
  return new Promise((done) => {
    const wrkArgs = ['-t2', `-c${connections}`, `-d${duration}s`, '--latency'];
    if (token) wrkArgs.push('-H', `Authorization: Token ${token}`);
    if (script) wrkArgs.push('-s', script);
    wrkArgs.push(`${url}${path}`);
    const child = spawn('wrk', wrkArgs);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', () => done(parseWrk(out)));
  });
}

const median = (values) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : Number.NaN;
};
function summarize(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    rssMb: Math.max(...runs.map((r) => r.rssMb ?? Number.NaN)),
  };
}

const results = [];
const database = `ironclad_bench_${randomBytes(4).toString('hex')}`;
const SECRET_KEY = randomBytes(48).toString('base64url');
const PASSWORD = 'benchmark-passphrase-9';

async function main() {
  ensureWrk();
  await admin(`CREATE DATABASE ${database}`);
  const dbEnv = {
    POSTGRES_DB: database,
    POSTGRES_USER: pgConfig.user,
    DB_HOST: pgConfig.host,
    DB_PORT: String(pgConfig.port),
    SECRET_KEY,
    // The same quota for the API and the same-SQL floor (the floor's create checks it too).
    TASK_QUOTA: '10000000',
  };
  const apiEnv = {
    ...dbEnv,
    RATE_LIMIT_LOGIN: '1000000/1s',
    RATE_LIMIT_LOGIN_ACCOUNT: '1000000/1s',
    RATE_LIMIT_SIGNUP: '1000/1m',
    // The per-account budgets stay on (their counting is part of what is measured), set past what wrk can send.
    RATE_LIMIT_READS: '1000000/1s',
    RATE_LIMIT_WRITES: '1000000/1s',
  };
  const apiScript = args.api ? resolve(args.api) : join(root, 'server/dist/main.js');
  const listening = /Server listening at (http:\/\/[^"\s]+)/;
  let api = await startProcess(apiScript, { ...apiEnv, ...args.apiEnv }, listening, args.nodeArgs);
  const floor = await startProcess(join(root, 'scripts/bench/floor.mjs'), dbEnv, /floor listening at (http:\/\/\S+)/);
  const minimal = await startProcess(
    join(root, 'scripts/bench/minimal-floor.mjs'),
    dbEnv,
    /minimal floor listening at (http:\/\/\S+)/,
  );

  // Seed: a user with 10 tasks, one with 100; the floor shares the tables and SECRET_KEY, so the same tokens work there.
  const seedUser = async (email, count) => {
    const { token } = await post(api.url, '/api/v1/users/signup/', { email, password: PASSWORD });
    let firstId;
    for (let i = 0; i < count; i++) {
      const task = await post(
        api.url,
        '/api/v1/tasks/',
        { title: `task ${i}`, description: 'x'.repeat(40) },
        { authorization: `Token ${token}` },
      );
      firstId ??= task.id;
    }
    return { token, email, firstId };
  };
  const ten = await seedUser('ten@bench.example', 10);
  const hundred = await seedUser('hundred@bench.example', 100);
  const writer = await seedUser('writer@bench.example', 1);

  const scenarios = [
    { name: 'GET /api/v1/test/', path: '/api/v1/test/', options: {} },
    { name: 'GET /api/v1/tasks/ (10 tasks)', path: '/api/v1/tasks/', options: { token: ten.token } },
    { name: 'GET /api/v1/tasks/ (100 tasks)', path: '/api/v1/tasks/?limit=100', options: { token: hundred.token } },
    { name: 'GET /api/v1/tasks/:id/', path: `/api/v1/tasks/${ten.firstId}/`, options: { token: ten.token } },
    {
      name: 'POST /api/v1/tasks/',
      path: '/api/v1/tasks/',
      options: { token: writer.token, script: luaFor('POST', '{"title":"bench"}') },
      // Every run starts from the same table: the quota check reads the account's index entries up to the quota,
      // so a run that followed another's thousands of creates would pay for them.
      // VACUUM too: the deleted rows' index entries would otherwise be read by the next run's quota checks until
      // autovacuum happened to remove them, during whichever run that was.
      before: async () => {
        await admin('DELETE FROM tasks WHERE user_id = (SELECT user_id FROM tasks WHERE id = $1) AND id <> $1', {
          database,
          values: [writer.firstId],
        });
        await admin('VACUUM tasks', { database });
      },
    },
    {
      name: 'PUT /api/v1/tasks/:id/',
      path: `/api/v1/tasks/${writer.firstId}/`,
      options: { token: writer.token, script: luaFor('PUT', '{"completed":true}') },
    },
    {
      name: 'POST /api/v1/users/login/',
      path: '/api/v1/users/login/',
      options: { script: luaFor('POST', JSON.stringify({ email: ten.email, password: PASSWORD })) },
    },
  ].filter((scenario) => !args.only || scenario.name.includes(args.only));

  for (const scenario of scenarios) {
    const apiRuns = [];
    const floorRuns = [];
    const minimalRuns = [];
    // One unmeasured second each first, so that no process is measured while its JIT is still cold.
    for (const target of [api, floor, minimal])
      await wrk(target.url, scenario.path, { ...scenario.options, duration: 1 });
    const before = scenario.before ?? (async () => {});
    for (let round = 0; round < ROUNDS; round++) {
      await before();
      apiRuns.push(await withRss(api.child.pid, () => wrk(api.url, scenario.path, scenario.options)));
      await before();
      floorRuns.push(await wrk(floor.url, scenario.path, scenario.options));
      await before();
      minimalRuns.push(await wrk(minimal.url, scenario.path, scenario.options));
    }
    const row = {
      scenario: scenario.name,
      api: summarize(apiRuns),
      floor: summarize(floorRuns),
      minimal: summarize(minimalRuns),
      rounds: apiRuns.map((run, i) => ({ api: run.rps, floor: floorRuns[i].rps, minimal: minimalRuns[i].rps })),
    };
    Object.assign(row, ratios(row));
    results.push(row);
    console.log(
      `${scenario.name.padEnd(32)} API ${row.api.rps.toFixed(0).padStart(6)} req/s p99 ${row.api.p99.toFixed(1).padStart(6)} ms | floor ${row.floor.rps.toFixed(0).padStart(6)} | minimal ${row.minimal.rps.toFixed(0).padStart(6)} | x${row.vsSameSql.toFixed(2)} / x${row.vsMinimal.toFixed(2)}`,
    );
  }

  // Login storm: the list's p99 while 32 connections log in without pause.
  const extras = {};
  if (!args.only) {
    const quiet = [];
    const stormy = [];
    const loginScript = luaFor('POST', JSON.stringify({ email: hundred.email, password: PASSWORD }));
    for (let round = 0; round < ROUNDS; round++) {
      quiet.push(await wrk(api.url, '/api/v1/tasks/', { token: ten.token }));
      const storm = wrk(api.url, '/api/v1/users/login/', {
        script: loginScript,
        connections: 32,
        duration: DURATION + 1,
      });
      await sleep(500);
      stormy.push(await wrk(api.url, '/api/v1/tasks/', { token: ten.token }));
      await storm;
    }
    extras.loginStorm = { quiet: summarize(quiet), storm: summarize(stormy) };
    extras.loginStorm.p99Ratio = extras.loginStorm.storm.p99 / extras.loginStorm.quiet.p99;
    console.log(
      `login storm: list p99 ${extras.loginStorm.quiet.p99.toFixed(1)} ms quiet, ${extras.loginStorm.storm.p99.toFixed(1)} ms during 32 concurrent logins (x${extras.loginStorm.p99Ratio.toFixed(2)}); list ${extras.loginStorm.storm.rps.toFixed(0)} req/s`,
    );
    extras.peakRssMb = memoryMb(api.child.pid, 'VmHWM');
    extras.floorPeakRssMb = memoryMb(floor.child.pid, 'VmHWM');
    extras.minimalPeakRssMb = memoryMb(minimal.child.pid, 'VmHWM');
    console.log(`peak RSS: API ${extras.peakRssMb.toFixed(1)} MB, floor ${extras.floorPeakRssMb.toFixed(1)} MB`);

    // Start-up to ready with migrations already applied.
    const startups = [];
    for (let round = 0; round < ROUNDS; round++) {
      await stopProcess(api.child);
      const began = Date.now();
      api = await startProcess(apiScript, { ...apiEnv, ...args.apiEnv }, listening, args.nodeArgs);
      while ((await fetch(`${api.url}/readyz`).catch(() => ({ status: 0 }))).status !== 200) await sleep(5);
      startups.push(Date.now() - began);
    }
    extras.startupMs = median(startups);
    console.log(`start-up to ready (PostgreSQL, migrated): ${extras.startupMs} ms (median of ${ROUNDS})`);

    // Two API processes (WEB_CONCURRENCY=2) on the 2 cores the database and wrk also use.
    await stopProcess(api.child);
    const pair = await startProcess(
      apiScript,
      { ...apiEnv, ...args.apiEnv, WEB_CONCURRENCY: '2' },
      listening,
      args.nodeArgs,
    );
    await sleep(1000); // let both workers listen
    const pairRuns = [];
    for (let round = 0; round < ROUNDS; round++)
      pairRuns.push(await wrk(pair.url, '/api/v1/tasks/', { token: ten.token }));
    extras.twoProcesses = summarize(pairRuns);
    console.log(
      `two processes, list 10: ${extras.twoProcesses.rps.toFixed(0)} req/s p99 ${extras.twoProcesses.p99.toFixed(1)} ms`,
    );
    await stopProcess(pair.child);

    // The embedded database (PGlite), as a new user meets it.
    const dataDir = mkdtempSync(join(tmpdir(), 'ironclad-bench-data-'));
    const embeddedStart = Date.now();
    // The same budgets as the PostgreSQL API (past what wrk sends): with the defaults, most answers were 429s.
    const embedded = await startProcess(
      apiScript,
      {
        DATA_DIR: dataDir,
        RATE_LIMIT_READS: apiEnv.RATE_LIMIT_READS,
        RATE_LIMIT_WRITES: apiEnv.RATE_LIMIT_WRITES,
        ...args.apiEnv,
      },
      listening,
      args.nodeArgs,
    );
    const embeddedStartMs = Date.now() - embeddedStart;
    const { token } = await post(embedded.url, '/api/v1/users/signup/', {
      email: 'embedded@bench.example',
      password: PASSWORD,
    });
    for (let i = 0; i < 10; i++)
      await post(embedded.url, '/api/v1/tasks/', { title: `task ${i}` }, { authorization: `Token ${token}` });
    const embeddedRuns = [];
    for (let round = 0; round < ROUNDS; round++)
      embeddedRuns.push(await wrk(embedded.url, '/api/v1/tasks/', { token }));
    extras.embedded = {
      ...summarize(embeddedRuns),
      startupMs: embeddedStartMs,
      peakRssMb: memoryMb(embedded.child.pid, 'VmHWM'),
    };
    console.log(
      `embedded (PGlite), list 10: ${extras.embedded.rps.toFixed(0)} req/s (${extras.embedded.errors} errors) p99 ${extras.embedded.p99.toFixed(1)} ms; first start ${embeddedStartMs} ms; peak RSS ${extras.embedded.peakRssMb.toFixed(1)} MB`,
    );
    await stopProcess(embedded.child);
  }

  await stopProcess(floor.child);
  await stopProcess(minimal.child);
  report(extras);
}

function report(extras) {
  const stamp = new Date().toISOString();
  const lines = [
    `# Benchmark ${stamp}`,
    '',
    `wrk -t2 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} rounds back to back (API, same-SQL floor, minimal floor), medians. Node ${process.version}, ${process.platform}.`,
    '',
    resultsTable(results),
    '',
    ...spreadLines(results),
    '',
  ];
  if (extras.loginStorm) {
    lines.push(
      `- Login storm (32 connections logging in): list p99 ${extras.loginStorm.quiet.p99.toFixed(2)} ms without, ${extras.loginStorm.storm.p99.toFixed(2)} ms with (x${extras.loginStorm.p99Ratio.toFixed(2)}).`,
      `- Highest RSS over the whole run (VmHWM, login storm included): API ${extras.peakRssMb.toFixed(1)} MB, same-SQL floor ${extras.floorPeakRssMb.toFixed(1)} MB, minimal floor ${extras.minimalPeakRssMb.toFixed(1)} MB.`,
      `- Start-up to ready (PostgreSQL, migrations applied): ${extras.startupMs} ms.`,
      `- Two processes (WEB_CONCURRENCY=2), list 10: ${extras.twoProcesses.rps.toFixed(0)} req/s, p99 ${extras.twoProcesses.p99.toFixed(2)} ms.`,
      `- Embedded database, list 10: ${extras.embedded.rps.toFixed(0)} req/s (${extras.embedded.errors} non-2xx or socket errors), p99 ${extras.embedded.p99.toFixed(2)} ms; first start ${extras.embedded.startupMs} ms; peak RSS ${extras.embedded.peakRssMb.toFixed(1)} MB.`,
      '',
    );
  }
  const markdown = lines.join('\n');
  console.log(`\n${markdown}`);
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  const file = `artifacts/bench-${stamp.replace(/[:.]/g, '-')}`;
  writeFileSync(join(root, `${file}.md`), markdown);
  writeFileSync(
    join(root, `${file}.json`),
    `${JSON.stringify({ stamp, duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, results, extras }, null, 2)}\n`,
  );
  console.log(`written to ${file}.md and .json`);
}

try {
  await main();
} finally {
  for (const child of children) await stopProcess(child);
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
  if (existsSync(scriptsDir)) execFileSync('rm', ['-rf', scriptsDir]);
}
