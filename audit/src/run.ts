/**
 * `cli check --deploy`: parses the arguments, runs the three audits, applies silencing and renders.
 * Exit codes: 0 nothing at or above --fail-level, 1 something is, 2 the audit itself could not run
 * (bad arguments, unreadable silence file or --ca).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { APP_KINDS, type AppKind, detectAppKind } from './app-kind.js';
import { auditConfig } from './config-checks.js';
import { auditFiles } from './file-checks.js';
import { type Area, CHECKS, type Finding, SEVERITIES, type Severity } from './findings.js';
import { auditLive } from './live-checks.js';
import type { ObservatoryResult } from './observatory.js';
import { type AuditReport, failed, redact, renderJson, renderText } from './report.js';

export const SILENCE_FILE = '.ironclad-audit.json';

export const USAGE = `usage: cli check --deploy [options]
  --dir PATH             checkout to audit (default: the current directory); its .env is read
  --url URL              also probe a live deployment (https://... or http://...)
  --connect ADDR         connect to ADDR, keeping the URL's host name for Host and SNI
  --host NAME            use NAME for Host and SNI while connecting to the URL's address
  --ca FILE              trust this CA certificate (PEM) for --url
  --insecure             do not verify the certificate of --url
  --http-port N          port of the plain-HTTP redirect check (default 80)
  --backend-ports LIST   ports that must be closed on the URL's host (default 8000)
  --db-ports LIST        database ports that must be closed (default 5432,5433)
  --skip LIST            leave out config, files, history and/or live
  --fail-level LEVEL     exit 1 when a finding is at or above info|warning|error|critical (default warning)
  --silence ID[,ID]      accept these findings (ID or ID@location); also read from ${SILENCE_FILE}
  --app KIND             auto (default), ironclad or other: what the checkout deploys (see docs/audit.md)
  --json                 machine-readable output (schema ironclad-audit/1)
`;

export class UsageError extends Error {}

export interface AuditOptions {
  dir: string;
  env?: Record<string, string | undefined>;
  url?: string;
  connect?: string;
  host?: string;
  ca?: Buffer;
  insecure?: boolean;
  httpPort?: number;
  backendPorts?: number[];
  databasePorts?: number[];
  skip?: string[];
  failLevel?: Severity;
  silence?: string[];
  /** What the directory deploys; `auto` (the default) guesses (app-kind.ts). */
  app?: (typeof APP_KINDS)[number];
}

function portList(raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const ports = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map(Number);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new UsageError(`bad port list "${raw}"`);
  return ports;
}

export function parseAuditArgs(argv: string[], cwd = process.cwd()): AuditOptions & { json: boolean } {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const failLevel = (v['fail-level'] ?? 'warning') as Severity;
  if (!SEVERITIES.includes(failLevel)) throw new UsageError(`--fail-level must be one of ${SEVERITIES.join(', ')}`);
  if (v.url) {
    try {
      const url = new URL(v.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
    } catch {
      throw new UsageError(`--url "${v.url}" is not an http(s) URL`);
    }
  }
  let ca: Buffer | undefined;
  if (v.ca) {
    try {
      ca = readFileSync(resolve(cwd, v.ca));
    } catch {
      throw new UsageError(`--ca: cannot read ${v.ca}`);
    }
  }
  const httpPort = v['http-port'] === undefined ? undefined : portList(v['http-port'], [])[0];
  const skip = (v.skip ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of skip) {
    if (!['config', 'files', 'history', 'live'].includes(s)) throw new UsageError(`--skip: unknown area "${s}"`);
  }
  const app = (v.app ?? 'auto') as (typeof APP_KINDS)[number];
  if (!APP_KINDS.includes(app)) throw new UsageError(`--app must be one of ${APP_KINDS.join(', ')}`);
  const dir = resolve(cwd, v.dir ?? '.');
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--dir: ${dir} is not a directory`);
  return {
    dir,
    url: v.url,
    connect: v.connect,
    host: v.host,
    ca,
    insecure: v.insecure ?? false,
    httpPort,
    backendPorts: portList(v['backend-ports'], [8000]),
    databasePorts: portList(v['db-ports'], [5432, 5433]),
    skip,
    failLevel,
    silence: (v.silence ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
    app,
    json: v.json ?? false,
  };
}

const OPTIONS = {
  deploy: { type: 'boolean' },
  dir: { type: 'string' },
  url: { type: 'string' },
  connect: { type: 'string' },
  host: { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  'http-port': { type: 'string' },
  'backend-ports': { type: 'string' },
  'db-ports': { type: 'string' },
  skip: { type: 'string', multiple: true },
  'fail-level': { type: 'string' },
  silence: { type: 'string', multiple: true },
  app: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Entries of the silence file: "ID", "ID@location-prefix", or {"id": ..., "reason": ...}. */
function readSilenceFile(dir: string): string[] {
  const path = join(dir, SILENCE_FILE);
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UsageError(`${SILENCE_FILE} is not valid JSON`);
  }
  const list = (parsed as { silence?: unknown })?.silence;
  if (!Array.isArray(list)) throw new UsageError(`${SILENCE_FILE} must be {"silence": [...]}`);
  return list.map((entry) => {
    if (typeof entry === 'string') return entry;
    if (entry && typeof entry === 'object' && typeof (entry as { id?: unknown }).id === 'string') {
      return (entry as { id: string }).id;
    }
    throw new UsageError(`${SILENCE_FILE}: each entry is an ID string or {"id", "reason"}`);
  });
}

function isSilenced(f: Finding, rules: string[]): boolean {
  return rules.some((rule) => {
    const at = rule.indexOf('@');
    if (at < 0) return rule === f.id;
    return rule.slice(0, at) === f.id && (f.location ?? '').startsWith(rule.slice(at + 1));
  });
}

export async function runAudit(options: AuditOptions): Promise<{ report: AuditReport; secrets: string[] }> {
  const started = Date.now();
  const skip = new Set(options.skip ?? []);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const areas: Area[] = [];
  let secrets: string[] = [];
  let observatory: ObservatoryResult | undefined;
  const env = options.env ?? process.env;
  const detected: { kind: AppKind; reason: string } =
    options.app === 'ironclad' || options.app === 'other'
      ? { kind: options.app, reason: '--app' }
      : detectAppKind(options.dir, env);
  if (detected.kind === 'other') {
    notes.push(
      `audited as an application other than Ironclad Tasks (${detected.reason}; --app ironclad to change): settings are judged where the configuration sets them, and .env.example is not compared with Ironclad's schema`,
    );
  }

  if (!skip.has('config')) {
    areas.push('config');
    const audit = auditConfig({ cwd: options.dir, env, onlySet: detected.kind === 'other' });
    findings.push(...audit.findings);
    secrets = audit.secretValues;
  }
  if (!skip.has('files')) {
    areas.push('files');
    const audit = await auditFiles(options.dir, { history: !skip.has('history'), app: detected.kind });
    findings.push(...audit.findings);
    notes.push(...audit.notes);
  }
  if (options.url && !skip.has('live')) {
    areas.push('live');
    const audit = await auditLive({
      url: options.url,
      connect: options.connect,
      host: options.host,
      ca: options.ca,
      insecure: options.insecure,
      httpPort: options.httpPort,
      backendPorts: options.backendPorts ?? [8000],
      databasePorts: options.databasePorts ?? [5432, 5433],
    });
    findings.push(...audit.findings);
    notes.push(...audit.notes);
    observatory = audit.observatory;
  }

  const rules = [...(options.silence ?? []), ...readSilenceFile(options.dir)];
  for (const rule of rules) {
    if (!((rule.split('@')[0] as string) in CHECKS)) notes.push(`silence entry "${rule}" names no known check`);
  }
  const report: AuditReport = {
    target: { dir: options.dir, ...(options.url ? { url: options.url } : {}) },
    areas,
    failLevel: options.failLevel ?? 'warning',
    findings: findings.filter((f) => !isSilenced(f, rules)),
    silenced: findings.filter((f) => isSilenced(f, rules)),
    observatory,
    notes,
    durationMs: Date.now() - started,
  };
  return { report, secrets };
}

export async function main(
  argv: string[],
  io: { stdout: NodeJS.WritableStream & { isTTY?: boolean }; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  let options: ReturnType<typeof parseAuditArgs>;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(USAGE);
      return 0;
    }
    options = parseAuditArgs(argv);
    const { report, secrets } = await runAudit(options);
    const colour = Boolean(io.stdout.isTTY) && !process.env.NO_COLOR;
    const output = options.json ? renderJson(report) : renderText(report, colour);
    io.stdout.write(redact(output, secrets));
    return failed(report) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`check: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
