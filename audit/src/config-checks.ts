/**
 * Audits the configuration the server would start with. It runs the server's own loader (same `.env`, `*_FILE`
 * secrets and defaults) in its non-refusing form, which evaluates the settings' security rules
 * (@ironclad/config/rules) exactly as at start; this only maps the loader's structured results to findings:
 *   - each rule that fired, under the rule's own ID (judged as production: the same whatever DEBUG says);
 *   - each variable that could not be read or parsed, as `config.refused` at the variable the loader names;
 *   - the one check that is about the API build rather than its settings: its HSTS policy (config.hsts.weak).
 * No message is parsed and no setting is judged twice: there is one definition of "weak".
 */

import { HSTS_MIN_MAX_AGE, SECURITY_HEADERS } from '@ironclad/config/headers';
import { inspectConfig, type LoadOptions, secretValues } from '@ironclad/config/load';
import { PARSE_PROBLEM, RULES } from '@ironclad/config/rules';
import { type Finding, finding } from './findings.js';

export interface ConfigAudit {
  findings: Finding[];
  /** Every secret value the configuration holds, so the report can prove none is printed. */
  secretValues: string[];
}

/** The API's own Strict-Transport-Security policy (config/src/headers.ts), which no setting changes. */
function hstsFindings(): Finding[] {
  const hsts = SECURITY_HEADERS['strict-transport-security'];
  const maxAge = Number(/max-age=(\d+)/i.exec(hsts ?? '')?.[1] ?? 0);
  if (maxAge >= HSTS_MIN_MAX_AGE) return [];
  return [
    finding('config.hsts.weak', `the API sends ${hsts ? `HSTS with max-age=${maxAge}` : 'no HSTS header'}`, 'HSTS'),
  ];
}

export interface ConfigAuditOptions extends LoadOptions {
  /**
   * Another application than Ironclad Tasks (app-kind.ts): judge only the rules one of whose settings the
   * configuration sets, since this server's defaults say nothing about that application, and leave out the check of
   * this project's own build (HSTS).
   */
  onlySet?: boolean;
}

export function auditConfig(options: ConfigAuditOptions): ConfigAudit {
  const { config, parseProblems, findings: ruleFindings } = inspectConfig(options);
  const settingsOf = new Map(RULES.map((rule) => [rule.id as string, rule.settings as readonly string[]]));
  const set = (name: string) => (config.sources as Record<string, string>)[name] !== 'default';
  const judged = options.onlySet
    ? ruleFindings.filter((result) => (settingsOf.get(result.id) ?? []).some(set))
    : ruleFindings;
  const findings: Finding[] = [
    ...parseProblems.map((problem) =>
      finding(PARSE_PROBLEM.id, `the server would refuse to start: ${problem.message}`, problem.setting),
    ),
    ...judged.map((result) => finding(result.id, result.message, result.setting)),
    ...(options.onlySet ? [] : hstsFindings()),
  ];
  return { findings, secretValues: secretValues(config) };
}
