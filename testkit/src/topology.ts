/**
 * The production topology of docker-compose.yml, run natively on loopback without containers: a fresh database on
 * the local PostgreSQL server, the built API server (server/dist/main.js) with production settings, and Debian's
 * nginx as a child process running the repository's own template (deploy/nginx/templates), rendered by envsubst
 * exactly as the nginx image renders it, with a throwaway self-signed certificate made by openssl.
 *
 * Plain async functions, no test framework: the deployment tests and the auditor's live checks share it.
 *
 *   import { startTopology, request } from '@ironclad/testkit/topology';
 *   const topology = await startTopology();            // ~2 s; builds client/dist first if it is missing
 *   try {
 *     const page = await request(topology, { path: '/' });           // HTTPS, SNI and Host = topology.domain
 *     // or any TLS client: 127.0.0.1:topology.httpsPort, servername topology.domain, ca topology.ca
 *   } finally {
 *     await topology.stop();                            // stops nginx and the API, drops the database, removes files
 *   }
 *
 * Needs nginx, openssl and envsubst (see tools.ts), PostgreSQL at 127.0.0.1:5432 (TEST_PG_* override, as for the
 * server tests) and a built server (`npm run build -w server`; `npm test` builds it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertFresh } from './build.js';
import { createTestDatabase, postgresEnv } from './database.js';
import { REPO, requireTool } from './gate.js';
import { makeCertificate, renderTemplates, type TemplateValues, writeMainConfig } from './nginx-render.js';
import { type Running, start as startServer, stop as stopServer } from './process.js';

export const DEFAULT_DOMAIN = 'ironclad.test';
/** The one address the API trusts forwarded headers from: where nginx's connections to the API come from. */
export const NGINX_SOURCE_ADDRESS = '127.0.0.1';
export const CLIENT_DIST = join(REPO, 'client/dist');

export interface TopologyOptions {
  /** The public name nginx serves and the API allows; default ironclad.test. */
  domain?: string;
  /** Directory nginx serves as the web client; default client/dist, built first when it has no index.html. */
  webRoot?: string;
  /** Extra or overriding API settings (e.g. RATE_LIMIT_LOGIN). */
  serverEnv?: Record<string, string>;
  /** Fixed loopback ports for nginx (for an outside scanner); free ones when omitted. */
  ports?: { http: number; https: number; health: number };
}

export interface Topology {
  domain: string;
  /** 127.0.0.1 ports: nginx's plain HTTP, nginx's HTTPS, nginx's internal health listener, and the API itself. */
  httpPort: number;
  httpsPort: number;
  healthPort: number;
  apiPort: number;
  /** PEM of the self-signed certificate nginx presents (trust it as the CA), and its file. */
  ca: string;
  certPath: string;
  webRoot: string;
  /** Private directory of this run: nginx.conf, conf.d/ (the rendered template), the certificate, acme/ (the ACME webroot). */
  dir: string;
  /** What nginx and the API have written so far (for failure messages). */
  output: () => { nginx: string; api: string };
  /** Stops the API alone (nginx keeps running), for what nginx answers when its upstream is gone. */
  stopApi: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Runs `npm run build -w client` when client/dist has no index.html. */
export function ensureClientBuilt(): string {
  if (existsSync(join(CLIENT_DIST, 'index.html'))) {
    assertFresh('client');
    return CLIENT_DIST;
  }
  const build = spawnSync('npm', ['run', 'build', '-w', 'client'], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (build.status !== 0 || !existsSync(join(CLIENT_DIST, 'index.html'))) {
    throw new Error(`client/dist is missing and \`npm run build -w client\` failed:\n${build.stdout}${build.stderr}`);
  }
  assertFresh('client');
  return CLIENT_DIST;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface RunningNginx {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/**
 * nginx on the prepared `dir` (nginx.conf, conf.d/), in the foreground as a child; resolves once `ready` says so.
 * In network namespace `netns` when given (the multi-host topology), through `ip netns exec`, which execs nginx.
 */
export async function startNginx(dir: string, ready: () => Promise<boolean>, netns?: string): Promise<RunningNginx> {
  // A file, not a pipe: the template logs to /dev/stdout as containers do, and Node's stdio "pipes" are sockets,
  // which cannot be reopened through /dev/stdout.
  const logPath = join(dir, 'nginx.log');
  const log = openSync(logPath, 'a');
  const nginxArgs = [requireTool('nginx'), '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'];
  const [command, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...nginxArgs] : nginxArgs;
  const child = spawn(command as string, args, {
    stdio: ['ignore', log, log],
    env: { PATH: process.env.PATH ?? '' },
  });
  closeSync(log);
  const output = () => {
    try {
      return readFileSync(logPath, 'utf8').slice(-256 * 1024);
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    if (await ready()) return { child, output, exited };
    await sleep(50);
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(`nginx did not start:\n${output()}`);
}

export async function stopNginx(nginx: RunningNginx | undefined): Promise<void> {
  if (!nginx || nginx.child.exitCode !== null || nginx.child.signalCode !== null) return;
  // SIGTERM is nginx's fast shutdown; SIGKILL if it hangs, so a test run never leaves one behind.
  nginx.child.kill('SIGTERM');
  const timer = setTimeout(() => nginx.child.kill('SIGKILL'), 5_000);
  await nginx.exited;
  clearTimeout(timer);
}

export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const webRoot = options.webRoot ?? ensureClientBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'ironclad-topology-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch {
        // keep cleaning up the rest
      }
    }
  };

  try {
    const certificate = makeCertificate(dir, domain);
    const acmeRoot = join(dir, 'acme');
    mkdirSync(join(acmeRoot, '.well-known/acme-challenge'), { recursive: true });

    const database = await createTestDatabase();
    cleanups.push(database.drop);
    const apiDir = join(dir, 'api');
    mkdirSync(apiDir);
    // The settings docker-compose.yml gives the backend, with loopback in place of the compose network.
    const api: Running = await startServer(
      {
        ...postgresEnv(database.name),
        DEBUG: 'false',
        HOST: '127.0.0.1',
        ALLOWED_HOSTS: domain,
        CORS_ALLOWED_ORIGINS: `https://${domain}`,
        // Exactly the address nginx connects from (loopback to 127.0.0.1 leaves from 127.0.0.1), as compose trusts
        // only the frontend's fixed address: another local process connecting straight to the API from another
        // loopback address (127.0.0.3...) is not believed when it forges X-Forwarded-For.
        TRUST_PROXY: NGINX_SOURCE_ADDRESS,
        LOG_LEVEL: 'info',
        ...options.serverEnv,
      },
      apiDir,
    );
    cleanups.push(async () => {
      await stopServer(api);
    });
    const apiPort = Number(new URL(api.url).port);

    // A free port can be taken between the probe and nginx's bind; try again with new ones.
    let nginx: RunningNginx | undefined;
    let ports: number[] = [];
    for (let attempt = 1; !nginx; attempt += 1) {
      ports = options.ports
        ? [options.ports.http, options.ports.https, options.ports.health]
        : [await freePort(), await freePort(), await freePort()];
      const [httpPort, httpsPort, healthPort] = ports as [number, number, number];
      const values: TemplateValues = {
        DOMAIN: domain,
        API_UPSTREAM: `127.0.0.1:${apiPort}`,
        RESOLVER: '127.0.0.1',
        TLS_CERT: certificate.cert,
        TLS_KEY: certificate.key,
        HTTP_PORT: `127.0.0.1:${httpPort}`,
        HTTPS_PORT: `127.0.0.1:${httpsPort}`,
        HEALTH_PORT: `127.0.0.1:${healthPort}`,
        WEB_ROOT: webRoot,
        ACME_ROOT: acmeRoot,
      };
      renderTemplates(dir, values);
      writeMainConfig(dir);
      try {
        const wanted = ports;
        nginx = await startNginx(dir, async () => (await Promise.all(wanted.map(portOpen))).every(Boolean));
      } catch (error) {
        if (options.ports || attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
      }
    }
    const running = nginx;
    cleanups.push(() => stopNginx(running));

    const [httpPort, httpsPort, healthPort] = ports as [number, number, number];
    return {
      domain,
      httpPort,
      httpsPort,
      healthPort,
      apiPort,
      ca: certificate.pem,
      certPath: certificate.cert,
      webRoot,
      dir,
      output: () => ({ nginx: running.output(), api: api.output() }),
      stopApi: async () => {
        await stopServer(api);
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's bytes as sent (a compressed answer is not text). */
  raw: Buffer;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** 'https' (default) or 'http'. */
  scheme?: 'http' | 'https';
  /** TLS SNI; default the topology's domain. */
  servername?: string;
  /** Local address to connect from (another 127.0.0.0/8 address is another client to nginx's per-address limits). */
  localAddress?: string;
}

/** One request to nginx on loopback, as a browser on the domain would send it (Host and SNI = domain). */
export function request(topology: Topology, options: RequestOptions = {}): Promise<Answer> {
  const scheme = options.scheme ?? 'https';
  const headers: Record<string, string> = { host: topology.domain, ...options.headers };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  const common = {
    host: '127.0.0.1',
    method: options.method ?? 'GET',
    path: options.path ?? '/',
    headers,
    agent: false as const,
    timeout: 10_000,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  };
  return new Promise((resolveAnswer, reject) => {
    const req =
      scheme === 'https'
        ? httpsRequest({
            ...common,
            port: topology.httpsPort,
            servername: options.servername ?? topology.domain,
            ca: topology.ca,
          })
        : httpRequest({ ...common, port: topology.httpPort });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolveAnswer({ status: response.statusCode ?? 0, headers: response.headers, body: raw.toString('utf8'), raw });
      });
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}
