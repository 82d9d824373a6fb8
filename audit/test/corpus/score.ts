/**
 * Scores the auditor on the corpus: generates every repository (generate.ts), audits each in-process the
 * way `check --deploy --dir <repo>` does (files, history and configuration from the repository's own
 * `.env`, nothing from this process's environment, no live URL), and prints a table:
 *   - per fault repository: each expected check, whether it was found, and at a sufficient severity;
 *   - per clean repository: every finding at warning or above (a false positive);
 *   - totals: recall (expectations met / expectations), false-positive repositories, and leaks: any
 *     planted secret, whole or as any 8-character window of its random part, in the text or JSON output.
 * Run: `npm run audit:corpus` (exit 1 when recall < 95%, a clean repository has a warning+, or a secret leaks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHECKS, type CheckId, type Finding, type Severity, severityRank } from '../../src/findings.js';
import { redact, renderJson, renderText } from '../../src/report.js';
import { runAudit } from '../../src/run.js';
import { type Expectation, type GeneratedRepo, generateRepo, type RepoSpec } from './generate.js';
import { REPOS } from './repos.js';

export const RECALL_TARGET = 0.95;
const FRAGMENT = 8;

export interface ExpectationResult {
  expectation: Expectation;
  /** A matching finding at a sufficient severity. */
  met: boolean;
  /** A matching ID (and place) was reported, but below the severity asked for. */
  weak?: Finding;
}

export interface RepoResult {
  name: string;
  kind: 'fault' | 'clean';
  about: string;
  expectations: ExpectationResult[];
  /** Clean repositories: findings at warning or above. */
  falsePositives: Finding[];
  /** Planted secrets (kind only) whose value or a fragment of it was printed. */
  leaks: string[];
  findings: Finding[];
  ms: number;
}

export interface CorpusScore {
  repos: RepoResult[];
  expectations: number;
  met: number;
  recall: number;
  faultRepos: number;
  cleanRepos: number;
  falsePositiveRepos: number;
  leaks: number;
  generateMs: number;
  auditMs: number;
  /** CPU time of this process while auditing (git's own processes excluded): what load on the machine cannot inflate. */
  auditCpuMs: number;
}

function ids(expectation: Expectation): CheckId[] {
  return Array.isArray(expectation.id) ? expectation.id : [expectation.id];
}

function minimumSeverity(expectation: Expectation): Severity {
  if (expectation.severity) return expectation.severity;
  // Any of several IDs: the least of their own severities.
  return ids(expectation)
    .map((id) => CHECKS[id].severity as Severity)
    .reduce((a, b) => (severityRank(a) <= severityRank(b) ? a : b));
}

export function judge(expectation: Expectation, findings: readonly Finding[]): ExpectationResult {
  const wanted = new Set<string>(ids(expectation));
  const matching = findings.filter(
    (f) => wanted.has(f.id) && (expectation.at === undefined || (f.location ?? '').startsWith(expectation.at)),
  );
  const least = severityRank(minimumSeverity(expectation));
  const strong = matching.find((f) => severityRank(f.severity) >= least);
  if (strong) return { expectation, met: true };
  return { expectation, met: false, ...(matching[0] ? { weak: matching[0] } : {}) };
}

/** 8-character windows of each secret's random part; any of them in the output is a leak. */
export function leaksIn(output: string, repo: GeneratedRepo): string[] {
  const leaked: string[] = [];
  for (const secret of repo.secrets) {
    if (output.includes(secret.value)) {
      leaked.push(secret.kind);
      continue;
    }
    for (let i = 0; i + FRAGMENT <= secret.random.length; i += 1) {
      if (output.includes(secret.random.slice(i, i + FRAGMENT))) {
        leaked.push(`${secret.kind} (fragment)`);
        break;
      }
    }
  }
  return leaked;
}

export async function auditRepo(repo: GeneratedRepo): Promise<RepoResult> {
  const started = Date.now();
  const { report, secrets } = await runAudit({ dir: repo.dir, env: {}, skip: ['live'] });
  const ms = Date.now() - started;
  // What the CLI prints, both ways: the text (without colour) and the JSON, each through its redaction.
  const output = redact(renderText(report, false), secrets) + redact(renderJson(report), secrets);
  const findings = report.findings;
  const spec = repo.spec;
  return {
    name: spec.name,
    kind: spec.kind,
    about: spec.about,
    expectations: (spec.expect ?? []).map((expectation) => judge(expectation, findings)),
    falsePositives:
      spec.kind === 'clean' ? findings.filter((f) => severityRank(f.severity) >= severityRank('warning')) : [],
    leaks: leaksIn(output, repo),
    findings,
    ms,
  };
}

/** Audits run this many at a time: each is mostly waiting on git and secretlint, so they overlap well. */
const CONCURRENCY = 4;

export async function scoreCorpus(root: string, specs: readonly RepoSpec[] = REPOS): Promise<CorpusScore> {
  const generateStarted = Date.now();
  const generated = specs.map((spec) => generateRepo(root, spec));
  const generateMs = Date.now() - generateStarted;
  const auditStarted = Date.now();
  const cpuBefore = process.cpuUsage();
  const repos: RepoResult[] = new Array(generated.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < generated.length; i = next++) repos[i] = await auditRepo(generated[i] as GeneratedRepo);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const auditMs = Date.now() - auditStarted;
  const cpu = process.cpuUsage(cpuBefore);
  const auditCpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const all = repos.flatMap((r) => r.expectations);
  const met = all.filter((e) => e.met).length;
  return {
    repos,
    expectations: all.length,
    met,
    recall: all.length === 0 ? 1 : met / all.length,
    faultRepos: repos.filter((r) => r.kind === 'fault').length,
    cleanRepos: repos.filter((r) => r.kind === 'clean').length,
    falsePositiveRepos: repos.filter((r) => r.falsePositives.length > 0).length,
    leaks: repos.reduce((n, r) => n + r.leaks.length, 0),
    generateMs,
    auditMs,
    auditCpuMs,
  };
}

export function passed(score: CorpusScore): boolean {
  return score.recall >= RECALL_TARGET && score.falsePositiveRepos === 0 && score.leaks === 0;
}

const idText = (e: Expectation) => (Array.isArray(e.id) ? e.id.join(' | ') : e.id) + (e.at ? ` @${e.at}` : '');
const findingText = (f: Finding) => `${f.id} (${f.severity}) @${f.location ?? '-'}`;

export function renderScore(score: CorpusScore): string {
  const out: string[] = [];
  out.push('Fault repositories (expected check -> found at the expected severity?)');
  for (const repo of score.repos.filter((r) => r.kind === 'fault')) {
    for (const result of repo.expectations) {
      const status = result.met ? 'found ' : result.weak ? 'WEAK  ' : 'MISSED';
      const weak = result.weak ? `  (reported ${result.weak.severity} @${result.weak.location ?? '-'})` : '';
      out.push(`  ${status} ${repo.name.padEnd(42)} ${idText(result.expectation)}${weak}`);
    }
    for (const leak of repo.leaks) out.push(`  LEAK   ${repo.name.padEnd(42)} ${leak} printed`);
  }
  out.push('', 'Clean repositories (any finding at warning or above is a false positive)');
  for (const repo of score.repos.filter((r) => r.kind === 'clean')) {
    if (repo.falsePositives.length === 0) out.push(`  clean  ${repo.name}`);
    for (const f of repo.falsePositives) out.push(`  FP     ${repo.name.padEnd(42)} ${findingText(f)}`);
    for (const leak of repo.leaks) out.push(`  LEAK   ${repo.name.padEnd(42)} ${leak} printed`);
  }
  const fpIds = new Map<string, number>();
  for (const repo of score.repos) {
    for (const id of new Set(repo.falsePositives.map((f) => f.id))) fpIds.set(id, (fpIds.get(id) ?? 0) + 1);
  }
  if (fpIds.size > 0) {
    out.push('', 'False positives by check (clean repositories it fired on)');
    for (const [id, n] of [...fpIds].sort((a, b) => b[1] - a[1])) out.push(`  ${String(n).padStart(3)}  ${id}`);
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  out.push(
    '',
    `recall ${score.met}/${score.expectations} = ${pct(score.recall)} (target ${pct(RECALL_TARGET)}) over ${score.faultRepos} fault repositories`,
    `false positives: ${score.falsePositiveRepos}/${score.cleanRepos} clean repositories with a warning or worse`,
    `secret leaks: ${score.leaks}`,
    `time: generate ${(score.generateMs / 1000).toFixed(1)} s, audit ${(score.auditMs / 1000).toFixed(1)} s (CPU ${(score.auditCpuMs / 1000).toFixed(1)} s; ${CONCURRENCY} at a time; slowest repository ${Math.max(...score.repos.map((r) => r.ms))} ms)`,
    `slowest: ${[...score.repos]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3)
      .map((r) => `${r.name} ${r.ms} ms`)
      .join(', ')}`,
    passed(score) ? 'PASS' : 'FAIL',
  );
  return `${out.join('\n')}\n`;
}

/** `npm run audit:corpus [-- --keep DIR] [-- --only NAME]`. */
async function main(argv: string[]): Promise<number> {
  const keepAt = argv.indexOf('--keep');
  const onlyAt = argv.indexOf('--only');
  const root = keepAt >= 0 ? resolve(argv[keepAt + 1] ?? 'corpus-out') : mkdtempSync(join(tmpdir(), 'audit-corpus-'));
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const specs = only ? REPOS.filter((spec) => spec.name.includes(only)) : REPOS;
  try {
    const score = await scoreCorpus(root, specs);
    process.stdout.write(renderScore(score));
    if (keepAt >= 0) process.stdout.write(`repositories kept in ${root}\n`);
    return passed(score) ? 0 : 1;
  } finally {
    if (keepAt < 0) rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
