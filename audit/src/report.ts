/**
 * Renders an audit as terminal text (grouped by area, worst first, colour only for a TTY without
 * NO_COLOR) or as JSON (schema "ironclad-audit/1", documented in docs/audit.md). Both pass through
 * redact() last, so a secret value that slipped into a message still never reaches the output.
 */
import { AREAS, type Area, type Finding, SEVERITIES, type Severity, severityRank } from './findings.js';
import type { ObservatoryResult } from './observatory.js';

export const JSON_SCHEMA_ID = 'ironclad-audit/1';

export interface AuditReport {
  target: { dir: string; url?: string };
  areas: Area[];
  failLevel: Severity;
  findings: Finding[];
  silenced: Finding[];
  observatory?: ObservatoryResult;
  notes: string[];
  durationMs: number;
}

export function failed(report: AuditReport): boolean {
  return report.findings.some((f) => severityRank(f.severity) >= severityRank(report.failLevel));
}

export function counts(findings: Finding[]): Record<Severity, number> {
  const result = { info: 0, warning: 0, error: 0, critical: 0 };
  for (const f of findings) result[f.severity] += 1;
  return result;
}

/** Replaces every known secret value (6+ characters; shorter ones would mangle ordinary words). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  return out;
}

export function renderJson(report: AuditReport): string {
  const document = {
    schema: JSON_SCHEMA_ID,
    ok: !failed(report),
    failLevel: report.failLevel,
    target: report.target,
    areas: report.areas,
    summary: { ...counts(report.findings), silenced: report.silenced.length },
    findings: report.findings,
    silenced: report.silenced,
    observatory: report.observatory ?? null,
    notes: report.notes,
    durationMs: report.durationMs,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

const COLOURS: Record<Severity | 'dim' | 'bold' | 'ok', string> = {
  critical: '\x1b[1;97;41m',
  error: '\x1b[1;31m',
  warning: '\x1b[33m',
  info: '\x1b[36m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  ok: '\x1b[32m',
};

export function renderText(report: AuditReport, colour: boolean): string {
  const paint = (style: keyof typeof COLOURS, text: string) => (colour ? `${COLOURS[style]}${text}\x1b[0m` : text);
  const lines: string[] = [];
  const target = report.target.url ? `${report.target.dir} and ${report.target.url}` : report.target.dir;
  lines.push(paint('bold', `Ironclad deploy audit: ${target}`), '');
  const sorted = [...report.findings].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id),
  );
  for (const area of AREAS) {
    if (!report.areas.includes(area)) continue;
    const inArea = sorted.filter((f) => f.area === area);
    lines.push(
      paint(
        'bold',
        `${area.toUpperCase()} (${inArea.length === 0 ? 'clean' : `${inArea.length} finding${inArea.length === 1 ? '' : 's'}`})`,
      ),
    );
    for (const f of inArea) {
      lines.push(`  ${paint(f.severity, f.severity.toUpperCase().padEnd(8))} ${paint('bold', f.id)}  ${f.message}`);
      lines.push(`  ${' '.repeat(8)} ${paint('dim', 'fix:')} ${f.fix}`);
      if (f.location) lines.push(`  ${' '.repeat(8)} ${paint('dim', 'at:')}  ${f.location}`);
    }
    if (area === 'live' && report.observatory) {
      const o = report.observatory;
      lines.push(`  HTTP Observatory score: ${paint(o.score >= 90 ? 'ok' : 'warning', `${o.score} (${o.grade})`)}`);
      for (const t of o.tests) {
        lines.push(
          paint('dim', `    ${(t.modifier > 0 ? `+${t.modifier}` : String(t.modifier)).padStart(4)}  ${t.result}`),
        );
      }
    }
    lines.push('');
  }
  if (report.silenced.length > 0) {
    lines.push(paint('bold', `SILENCED (${report.silenced.length}, not counted)`));
    for (const f of report.silenced) lines.push(paint('dim', `  ${f.severity.padEnd(8)} ${f.id}  ${f.message}`));
    lines.push('');
  }
  for (const note of report.notes) lines.push(paint('dim', `note: ${note}`));
  const c = counts(report.findings);
  const summary = SEVERITIES.slice()
    .reverse()
    .map((s) => `${c[s]} ${s}`)
    .join(', ');
  const verdict = failed(report)
    ? paint('error', `FAIL: findings at or above "${report.failLevel}"`)
    : paint('ok', `PASS: nothing at or above "${report.failLevel}"`);
  lines.push(`${summary}; ${report.silenced.length} silenced. ${verdict} (${(report.durationMs / 1000).toFixed(1)} s)`);
  return `${lines.join('\n')}\n`;
}
