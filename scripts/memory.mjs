#!/usr/bin/env node
/**
 * npm run memory: the built server's resident memory, measured from outside, phase by phase, as a newcomer meets it.
 *
 *   npm run memory                              # embedded database (PGlite), a fresh DATA_DIR
 *   npm run memory -- --db postgres             # a throw-away PostgreSQL database (TEST_PG_HOST/TEST_PG_PORT)
 *   npm run memory -- --env KEY=VALUE --node-arg=--max-semi-space-size=1 --duration 5 --json out.json
 *
 * Starts server/dist/main.js (production settings, PORT 0), samples the RSS of its whole process tree (VmRSS of
 * every descendant: a database the server starts counts too) every 50 ms through: start (migrations included), idle,
 * seeding, wrk list load (16 connections), creates (wrk POST), list of 100, search (wrk GET ?q=), idle again. With --breakdown the
 * server also reports process.memoryUsage() (V8 heap vs external vs array buffers) through a preloaded probe. Prints
 * a table of peak and end RSS per phase with req/s; stops the server (and wrk) by itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { admin, parseWrk, pgConfig } from './lib.mjs';

/** The two accounts' password: made per run, never written down (the repository's own audit reads this file). */
const PASSWORD = randomBytes(18).toString('base64url');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'embedded' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    breakdown: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** kB of a /proc/<pid>/status field, 0 once the process is gone. */
function statusKb(pid, field) {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and every descendant (through /proc/<pid>/task/<tid>/children). */
function tree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${all[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${all[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) all.push(...children.split(/\s+/).map(Number));
      } catch {}
    }
  }
  return all;
}

const treeRssMb = (pid) => tree(pid).reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0) / 1024;

/** Samples every 50 ms; each phase records its highest and its last sample. */
class Sampler {
  constructor(pid) {
    this.pid = pid;
    this.phase = undefined;
    this.phases = [];
    this.timer = setInterval(() => this.sample(), 50);
  }
  sample() {
    const mb = treeRssMb(this.pid);
    if (this.phase && mb > 0) {
      this.phase.peakMb = Math.max(this.phase.peakMb, mb);
      this.phase.endMb = mb;
    }
    return mb;
  }
  begin(name) {
    this.end();
    this.phase = { name, peakMb: 0, endMb: 0, started: Date.now() };
    this.sample();
    return this.phase;
  }
  end() {
    if (!this.phase) return;
    this.sample();
    this.phase.ms = Date.now() - this.phase.started;
    this.phases.push(this.phase);
    this.phase = undefined;
  }
  stop() {
    this.end();
    clearInterval(this.timer);
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'ironclad-memory-'));
function wrk(url, path, { token, method, body }) {
  const wrkArgs = ['-t2', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', '-H', `Authorization: Token ${token}`];
  if (method) {
    const script = join(scratch, `${method}.lua`);
    writeFileSync(
      script,
      `wrk.method = "${method}"\nwrk.body = '${body}'\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    wrkArgs.push('-s', script);
  }
  wrkArgs.push(`${url}${path}`);
  return new Promise((done) => {
    const child = spawn('wrk', wrkArgs);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', () => done(parseWrk(out)));
  });
}

async function post(url, path, body, headers = {}) {
  let response;
  // A loaded machine makes the server shed load (503 + Retry-After); seeding waits rather than fails.
  for (let attempt = 0; attempt < 50; attempt++) {
    response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (response.status !== 503) break;
    await sleep(200);
  }
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function duKb(dir) {
  try {
    return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return Number.NaN;
  }
}

async function main() {
  const dataDir = join(scratch, 'data');
  const database = `ironclad_memory_${randomBytes(4).toString('hex')}`;
  const env = {
    PATH: process.env.PATH,
    PORT: '0',
    SHUTDOWN_DRAIN: '0',
    RATE_LIMIT_SIGNUP: '1000/1m',
    RATE_LIMIT_READS: '1000000/1s',
    RATE_LIMIT_WRITES: '1000000/1s',
    TASK_QUOTA: '10000000',
  };
  if (args.db === 'postgres') {
    await admin(`CREATE DATABASE ${database}`);
    Object.assign(env, {
      POSTGRES_DB: database,
      POSTGRES_USER: pgConfig.user,
      DB_HOST: pgConfig.host,
      DB_PORT: String(pgConfig.port),
      SECRET_KEY: randomBytes(48).toString('base64url'),
    });
  } else env.DATA_DIR = dataDir;
  for (const pair of args.env) {
    const at = pair.indexOf('=');
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const probeFile = join(scratch, 'probe.jsonl');
  const nodeArgs = [...args['node-arg']];
  if (args.breakdown) {
    nodeArgs.push('--import', join(root, 'scripts/memory-probe.mjs'));
    env.MEMORY_PROBE_FILE = probeFile;
  }

  const began = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'server/dist/main.js')], {
    cwd: scratch,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const stopChild = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.on('exit', stopChild);
  const sampler = new Sampler(child.pid);
  const phases = {};
  try {
    phases.start = sampler.begin('start + migrations');
    const url = await new Promise((done, fail) => {
      let seen = '';
      const timer = setTimeout(() => fail(new Error(`server did not start:\n${stderr}`)), 60_000);
      child.on('exit', (code) => fail(new Error(`server exited ${code}:\n${stderr}`)));
      child.stdout.on('data', (chunk) => {
        if (seen === null) return;
        seen += chunk;
        const match = /Server listening at (http:\/\/[^"\s]+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          seen = null;
          done(match[1]);
        }
      });
    });
    while ((await fetch(`${url}/readyz`).catch(() => ({ status: 0 }))).status !== 200) await sleep(10);
    const startMs = Date.now() - began;

    sampler.begin('idle 2 s');
    await sleep(2000);

    sampler.begin('signup + 10 tasks');
    const { token } = await post(url, '/api/v1/users/signup/', {
      email: 'memory@bench.example',
      password: PASSWORD,
    });
    const auth = { authorization: `Token ${token}` };
    for (let i = 0; i < 10; i++)
      await post(url, '/api/v1/tasks/', { title: `Crème brûlée ${i}`, description: 'x'.repeat(40) }, auth);
    const writer = await post(url, '/api/v1/users/signup/', {
      email: 'writer@bench.example',
      password: PASSWORD,
    });

    const list = sampler.begin(`list of 10 (wrk -c${CONNECTIONS})`);
    Object.assign(list, await wrk(url, '/api/v1/tasks/', { token }));
    const creates = sampler.begin(`creates (wrk POST -c${CONNECTIONS})`);
    Object.assign(
      creates,
      await wrk(url, '/api/v1/tasks/', {
        token: writer.token,
        method: 'POST',
        body: '{"title":"Crème brûlée from wrk","description":"a description of forty characters...."}',
      }),
    );
    const list100 = sampler.begin(`list of 100 (wrk -c${CONNECTIONS})`);
    Object.assign(list100, await wrk(url, '/api/v1/tasks/?limit=100', { token: writer.token }));
    const search = sampler.begin(`search q=creme (wrk -c${CONNECTIONS})`);
    Object.assign(search, await wrk(url, '/api/v1/tasks/?q=creme', { token: writer.token }));
    sampler.begin('idle 3 s after');
    await sleep(3000);
    sampler.end();

    const hwmKb = statusKb(child.pid, 'VmHWM');
    const result = {
      db: args.db,
      env: Object.fromEntries(args.env.map((p) => p.split(/=(.*)/s).slice(0, 2))),
      nodeArgs: args['node-arg'],
      startMs,
      peakMb: Math.max(...sampler.phases.map((p) => p.peakMb)),
      mainHwmMb: hwmKb / 1024,
      diskMb: args.db === 'postgres' ? Number.NaN : duKb(dataDir) / 1024,
      phases: sampler.phases.map(({ started, ...rest }) => rest),
    };
    if (args.breakdown) {
      const samples = readFileSync(probeFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const top = samples.reduce((best, s) => (s.rss > best.rss ? s : best), samples[0]);
      result.breakdownAtPeak = Object.fromEntries(Object.entries(top).map(([k, v]) => [k, +(v / 2 ** 20).toFixed(1)]));
    }
    return result;
  } finally {
    sampler.stop();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((done) => child.once('exit', done)), sleep(10_000)]);
      stopChild();
    }
    if (args.db === 'postgres') await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}

function print(result) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '');
  const lines = [
    `db ${result.db} ${JSON.stringify(result.env)} ${result.nodeArgs.join(' ')}`,
    `ready after ${result.startMs} ms; peak RSS (process tree) ${f(result.peakMb)} MB; server VmHWM ${f(result.mainHwmMb)} MB; data ${f(result.diskMb, 1)} MB`,
    '| Phase | ms | peak RSS MB | end RSS MB | req/s | p99 ms | errors |',
    '|---|---|---|---|---|---|---|',
    ...result.phases.map(
      (p) =>
        `| ${p.name} | ${p.ms} | ${f(p.peakMb)} | ${f(p.endMb)} | ${f(p.rps)} | ${f(p.p99, 1)} | ${p.errors ?? ''} |`,
    ),
  ];
  if (result.breakdownAtPeak)
    lines.push(`memoryUsage() at the highest RSS (MB): ${JSON.stringify(result.breakdownAtPeak)}`);
  console.log(lines.join('\n'));
}

const result = await main();
print(result);
if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
