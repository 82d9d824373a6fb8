/**
 * Application settings read statically: Django settings modules (django.ts) and Node server code (node-server.ts).
 * Both report literal secrets on lines the generic secret heuristics (secrets-scan.ts) also fire on; one finding per
 * line is wanted, and the framework's is the more precise (it knows the value is the SECRET_KEY, or the default of
 * an unset variable), so those lines are claimed here and the generic hits on them are dropped.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../findings.js';
import { auditDjangoSettings } from './django.js';
import { auditNodeServer } from './node-server.js';

export interface FrameworkAudit {
  findings: Finding[];
  /**
   * `path:line` locations whose secret literal this audit judged (reported, or deliberately passed: a development
   * settings module's key). files.secret.hardcoded and files.secret.entropy hits there are dropped; so is any other
   * files.secret.* hit on a line this audit reported.
   */
  claimed: Set<string>;
}

/** `files`: paths relative to `dir` (the candidate list auditFiles builds). */
export function auditFrameworks(dir: string, files: string[], maxBytes = 1024 * 1024): FrameworkAudit {
  const read = (path: string): string | undefined => {
    try {
      const full = join(dir, path);
      if (statSync(full).size > maxBytes) return undefined;
      return readFileSync(full, 'utf8');
    } catch {
      return undefined;
    }
  };
  const django = auditDjangoSettings(files, read);
  const node = auditNodeServer(files, read);
  return { findings: [...django.findings, ...node.findings], claimed: new Set([...django.claimed, ...node.claimed]) };
}

/** The findings without the generic secret hits on lines a framework check owns (see FrameworkAudit.claimed). */
export function withoutClaimedSecretHits(findings: Finding[], audit: FrameworkAudit): Finding[] {
  const reported = new Set(audit.findings.map((f) => f.location));
  return findings.filter((f) => {
    if (f.location === undefined || !f.id.startsWith('files.secret.')) return true;
    if (reported.has(f.location)) return false;
    return !(audit.claimed.has(f.location) && (f.id === 'files.secret.hardcoded' || f.id === 'files.secret.entropy'));
  });
}
