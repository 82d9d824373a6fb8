#!/usr/bin/env node
/**
 * Soak test: holds a steady mixed load on the built server (PostgreSQL-backed,
 * loopback only) for a chosen time and reports, per window, requests/s, p50,
 * p99, errors and the server's resident memory. Exits 1 if any request failed
 * or memory kept growing.
 *
 *   npm run soak -- --duration 300 --connections 16 --window 10
 *
 * Needs PostgreSQL at TEST_PG_HOST:TEST_PG_PORT (default 127.0.0.1:5432, user postgres, trust auth);
 * it creates a throw-away database and drops it at the end. Results also go to artifacts/soak-*.{md,json}.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { admin, memoryMb, pgConfig } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '16' },
    window: { type: 'string', default: '5' },
  },
});
const durationMs = Number(args.duration) * 1000;
const windowMs = Number(args.window) * 1000;
const connections = Number(args.connections);

const agent = new Agent({ keepAlive: true, maxSockets: connections });
function call(base, method, path, headers, body) {
  const started = process.hrtime.bigint();
  return new Promise((done) => {
    const req = request(`${base}${path}`, { agent, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (body.length < 300) body += chunk;
      });
      res.on('end', () =>
        done({
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(res.statusCode >= 300 ? { body } : {}),
        }),
      );
    });
    req.on('error', (error) =>
      done({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, error: error.code }),
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

const database = `ironclad_soak_${randomBytes(4).toString('hex')}`;
await admin(`CREATE DATABASE ${database}`);
const secretKey = randomBytes(48).toString('base64url');
const server = spawn(process.execPath, [join(root, 'server/dist/main.js')], {
  cwd: mkdtempSync(join(tmpdir(), 'ironclad-soak-')),
  env: {
    PATH: process.env.PATH,
    PORT: '0',
    SHUTDOWN_DRAIN: '0',
    POSTGRES_DB: database,
    POSTGRES_USER: pgConfig.user,
    DB_HOST: pgConfig.host,
    DB_PORT: String(pgConfig.port),
    SECRET_KEY: secretKey,
    RATE_LIMIT_LOGIN: '1000000/1m',
    // One account makes the whole load: its budgets and quota set past it (the counting still runs).
    RATE_LIMIT_READS: '1000000/1s',
    RATE_LIMIT_WRITES: '1000000/1s',
    TASK_QUOTA: '10000000',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let cleanedUp = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  agent.destroy();
  server.kill('SIGTERM');
  await new Promise((done) => (server.exitCode !== null ? done() : server.once('exit', done)));
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

try {
  // The server logs one JSON line per request, as in production; read them all, keep the address.
  const base = await new Promise((done, fail) => {
    let seen = '';
    const timeout = setTimeout(() => fail(new Error('server did not start')), 20_000);
    server.stdout.on('data', (chunk) => {
      if (seen === null) return;
      seen += chunk;
      const match = /Server listening at (http:\/\/[^"\s]+)/.exec(seen);
      if (match) {
        clearTimeout(timeout);
        seen = null;
        done(match[1]);
      }
    });
  });

  const json = { 'content-type': 'application/json' };
  const signup = await new Promise((done) => {
    const req = request(`${base}/api/v1/users/signup/`, { method: 'POST', headers: json }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => done(JSON.parse(body)));
    });
    req.end(JSON.stringify({ email: 'soak@example.com', password: 'long-running-load-passphrase' }));
  });
  if (!signup.token) throw new Error(`signup failed: ${JSON.stringify(signup)}`);
  const auth = { ...json, authorization: `Token ${signup.token}` };
  const ids = [];
  for (let i = 0; i < 20; i++) {
    const answer = await new Promise((done) => {
      const req = request(`${base}/api/v1/tasks/`, { method: 'POST', headers: auth }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => done(JSON.parse(body)));
      });
      req.end(JSON.stringify({ title: `seed ${i}` }));
    });
    ids.push(answer.id);
  }

  console.log(
    `soak: ${args.duration}s, ${connections} connections, windows of ${args.window}s, server pid ${server.pid}`,
  );
  console.log('window |   req/s |  p50 ms |  p99 ms | errors | RSS MB');
  const windows = [];
  let current = { latencies: [], errors: 0, started: Date.now() };
  const deadline = Date.now() + durationMs;
  let stop = false;
  let firstError;
  const worker = async (n) => {
    for (let i = 0; !stop; i++) {
      const pick = (n + i) % 10;
      const id = ids[(n * 7 + i) % ids.length];
      const answer =
        pick < 6
          ? await call(base, 'GET', '/api/v1/tasks/?limit=20', auth)
          : pick < 8
            ? await call(base, 'GET', `/api/v1/tasks/${id}/`, auth)
            : pick < 9
              ? await call(base, 'PATCH', `/api/v1/tasks/${id}/`, auth, JSON.stringify({ completed: i % 2 === 0 }))
              : await call(base, 'POST', '/api/v1/tasks/', auth, JSON.stringify({ title: `soak ${n}-${i}` }));
      current.latencies.push(answer.ms);
      if (answer.status < 200 || answer.status >= 300) {
        current.errors++;
        if (!firstError) firstError = answer;
      }
    }
  };
  const timer = setInterval(() => {
    const done = current;
    current = { latencies: [], errors: 0, started: Date.now() };
    const sorted = done.latencies.sort((a, b) => a - b);
    const row = {
      t: Math.round((Date.now() - (deadline - durationMs)) / 1000),
      rps: Math.round((sorted.length * 1000) / (Date.now() - done.started)),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors: done.errors,
      rssMb: memoryMb(server.pid),
    };
    windows.push(row);
    console.log(
      `${String(row.t).padStart(5)}s | ${String(row.rps).padStart(7)} | ${row.p50.toFixed(1).padStart(7)} | ${row.p99.toFixed(1).padStart(7)} | ${String(row.errors).padStart(6)} | ${row.rssMb.toFixed(1).padStart(6)}`,
    );
  }, windowMs);
  const workers = Array.from({ length: connections }, (_, n) => worker(n));
  await new Promise((done) => setTimeout(done, durationMs));
  stop = true;
  await Promise.all(workers);
  clearInterval(timer);

  const errors = windows.reduce((sum, row) => sum + row.errors, 0) + current.errors;
  // Memory after warm-up (second window) against the last window: a leak shows as steady growth.
  const warm = windows[Math.min(1, windows.length - 1)]?.rssMb ?? Number.NaN;
  const last = windows.at(-1)?.rssMb ?? Number.NaN;
  const growth = last / warm;
  const summary = {
    duration_s: Number(args.duration),
    connections,
    errors,
    rss_warm_mb: warm,
    rss_last_mb: last,
    rss_growth: growth,
    windows,
  };
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(root, `artifacts/soak-${stamp}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(
    join(root, `artifacts/soak-${stamp}.md`),
    [
      `# Soak ${new Date().toISOString()}`,
      '',
      `${args.duration}s, ${connections} connections. Errors: ${errors}. RSS ${warm.toFixed(1)} MB after warm-up, ${last.toFixed(1)} MB at the end (x${growth.toFixed(2)}).`,
      '',
      '| t (s) | req/s | p50 ms | p99 ms | errors | RSS MB |',
      '|---|---|---|---|---|---|',
      ...windows.map(
        (r) =>
          `| ${r.t} | ${r.rps} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${r.rssMb.toFixed(1)} |`,
      ),
      '',
    ].join('\n'),
  );
  if (firstError) console.log('first error:', JSON.stringify(firstError));
  console.log(
    `errors: ${errors}; RSS after warm-up ${warm.toFixed(1)} MB, at the end ${last.toFixed(1)} MB (x${growth.toFixed(2)})`,
  );
  const flat = !(growth > 1.3);
  if (errors > 0 || !flat) {
    console.error(errors > 0 ? 'FAIL: requests failed' : 'FAIL: memory grew by more than 30% after warm-up');
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
