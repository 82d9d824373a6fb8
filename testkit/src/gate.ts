/**
 * The one gate for everything a test needs from the machine rather than from npm: system programs (nginx,
 * openssl, envsubst, docker-compose, git, Chromium, pgbouncer, kubectl) and the PostgreSQL server at 127.0.0.1:5432.
 *
 * The rule, the same for every suite: on a developer's machine a missing need SKIPS the suite and prints why
 * (`SKIPPED <suite>: missing nginx (apt-get install nginx-light); set REQUIRE_NGINX=1 to make this a failure`);
 * with the need's REQUIRE_* variable set to 1 (CI sets them all after installing everything) it FAILS instead.
 *
 *   const gate = await gateFor('deploy topology', ['nginx', 'openssl', 'envsubst', 'postgres']);
 *   gate.describe('...', () => { ... });      // describe, or describe.skip with the reason printed once
 */
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { netnsMissing } from './netns.js';
import { PG_HOST, PG_PORT } from './postgres-address.js';

/** The repository's root directory. */
export const REPO = resolve(import.meta.dirname, '../..');

export type Tool =
  | 'nginx'
  | 'openssl'
  | 'envsubst'
  | 'docker-compose'
  | 'git'
  | 'chromium'
  | 'pgbouncer'
  // Renders deploy/k8s (kubectl kustomize).
  | 'kubectl'
  // The multi-host topology (testkit/src/multi-host.ts): namespaces, firewall, DNS, scanner.
  | 'ip'
  | 'nft'
  | 'dnsmasq'
  | 'nmap'
  // Forges ARP and ICMP in the multi-host tests (part of Debian's nmap package).
  | 'nping';
/** 'netns': this process may create network namespaces (root, and `ip netns add` works). */
export type Need = Tool | 'postgres' | 'netns';

/** Where Debian puts each tool, for the message. */
const PACKAGE: Record<Tool, string> = {
  nginx: 'nginx-light',
  openssl: 'openssl',
  envsubst: 'gettext-base',
  'docker-compose': 'docker-compose',
  git: 'git',
  chromium: 'chromium',
  pgbouncer: 'pgbouncer',
  // Not Debian's kubernetes-client (kubectl 1.20, without kustomize 5): the upstream kubectl from pkgs.k8s.io.
  kubectl: "kubectl (from pkgs.k8s.io; not Debian's kubernetes-client)",
  ip: 'iproute2',
  nft: 'nftables',
  dnsmasq: 'dnsmasq-base',
  nmap: 'nmap',
  nping: 'nmap',
};

/** The variable that turns a missing need into a failure. */
export const REQUIRE_VARIABLE: Record<Need, string> = {
  nginx: 'REQUIRE_NGINX',
  openssl: 'REQUIRE_NGINX',
  envsubst: 'REQUIRE_NGINX',
  'docker-compose': 'REQUIRE_NGINX',
  git: 'REQUIRE_NGINX',
  chromium: 'REQUIRE_BROWSER',
  pgbouncer: 'REQUIRE_PGBOUNCER',
  // Renders deploy/k8s (kubectl kustomize): a deployment tool like nginx and docker-compose.
  kubectl: 'REQUIRE_NGINX',
  postgres: 'REQUIRE_POSTGRES',
  ip: 'REQUIRE_NETNS',
  nft: 'REQUIRE_NETNS',
  dnsmasq: 'REQUIRE_NETNS',
  nmap: 'REQUIRE_NETNS',
  nping: 'REQUIRE_NETNS',
  netns: 'REQUIRE_NETNS',
};

/** nginx lives in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Debian's Chromium, or CHROMIUM_PATH. Never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Absolute path of an executable, or undefined. */
export function findTool(name: Tool): string | undefined {
  if (name === 'chromium') {
    try {
      accessSync(CHROMIUM, constants.X_OK);
      return CHROMIUM;
    } catch {
      return undefined;
    }
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** For code that runs only inside a gated suite: the tool's path, or a clear error. */
export function requireTool(name: Tool): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed (apt-get install ${PACKAGE[name]})`);
  return path;
}

let postgresProbe: Promise<string | undefined> | undefined;

/** Whether something accepts TCP connections at the test PostgreSQL address; the reason when not. */
export function postgresMissing(): Promise<string | undefined> {
  postgresProbe ??= new Promise((done) => {
    const socket = connect(PG_PORT, PG_HOST);
    const finish = (reason: string | undefined) => {
      socket.destroy();
      done(reason);
    };
    socket.setTimeout(2000, () => finish(`no PostgreSQL answers at ${PG_HOST}:${PG_PORT} (timed out)`));
    socket.once('connect', () => finish(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(
        `no PostgreSQL at ${PG_HOST}:${PG_PORT} (${error.code ?? error.message}; set TEST_PG_HOST/TEST_PG_PORT/TEST_PG_USER, or apt-get install postgresql)`,
      ),
    );
  });
  return postgresProbe;
}

/** What `describe` and `describe.skip` have in common (`(name, fn)` and `.each`). */
export type SuiteFunction = typeof describe.skip;
export type TestFunction = typeof it.skip;

export interface Gate {
  /** Paths of the tools that were found. */
  readonly paths: Partial<Record<Tool, string>>;
  /** Why the suite cannot run here, or undefined when everything is present. */
  readonly missing: string | undefined;
  /** True when the suite is skipped (something missing and not required). */
  readonly skip: boolean;
  /** `describe`, or `describe.skip` when the gate is closed. */
  readonly describe: SuiteFunction;
  /** `it`, or `it.skip` when the gate is closed. */
  readonly it: TestFunction;
}

/**
 * `fn`, announcing the skip the first time a suite or test is declared through it: a file that imports a gate but
 * declares nothing behind it (a shared helper's) prints nothing.
 */
function announcing<F extends object>(fn: F, announce: () => void): F {
  return new Proxy(fn, {
    apply(target, self, args) {
      announce();
      return Reflect.apply(target as (...a: unknown[]) => unknown, self, args);
    },
    get(target, property, receiver) {
      announce();
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * Checks every need of one suite. Missing and not required: a closed gate, whose describe/it skip and print one
 * SKIPPED line saying why. Missing and required (its REQUIRE_* variable is 1): throws, which fails the test file.
 */
export async function gateFor(suite: string, needs: readonly Need[]): Promise<Gate> {
  const paths: Partial<Record<Tool, string>> = {};
  const reasons: string[] = [];
  const required = new Set<string>();
  for (const need of needs) {
    if (need === 'netns') {
      const reason = netnsMissing();
      if (reason) {
        reasons.push(reason);
        required.add(REQUIRE_VARIABLE[need]);
      }
      continue;
    }
    if (need === 'postgres') {
      const reason = await postgresMissing();
      if (reason) {
        reasons.push(reason);
        required.add(REQUIRE_VARIABLE[need]);
      }
      continue;
    }
    const path = findTool(need);
    if (path) paths[need] = path;
    else {
      reasons.push(
        need === 'chromium'
          ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
          : `${need} is not installed (apt-get install ${PACKAGE[need]})`,
      );
      required.add(REQUIRE_VARIABLE[need]);
    }
  }
  const missing = reasons.length === 0 ? undefined : reasons.join('; ');
  if (missing) {
    const demanded = [...required].filter((name) => process.env[name] === '1');
    if (demanded.length > 0) throw new Error(`${suite}: ${demanded.join(', ')}=1 but ${missing}`);
  }
  if (!missing) return { paths, missing, skip: false, describe, it };
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    const variables = [...required].map((name) => `${name}=1`).join(' ');
    process.stderr.write(`\n  SKIPPED ${suite}: ${missing}; set ${variables} to make this a failure\n\n`);
  };
  return {
    paths,
    missing,
    skip: true,
    describe: announcing(describe.skip, announce),
    it: announcing(it.skip, announce),
  };
}
