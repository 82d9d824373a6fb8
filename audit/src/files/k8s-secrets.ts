/**
 * Committed Kubernetes Secrets. A `kind: Secret` manifest's `data` is only base64, not encryption: every value in
 * it (and in `stringData`) is a credential in the clear unless it is empty or a placeholder. Helm templates
 * (`{{ .Values.password | b64enc }}`) and encrypted forms (SealedSecret, SOPS, ExternalSecret) hold nothing and
 * pass. The decoded values also go through the key-format rules, so a Stripe or AWS key inside a Secret is named.
 * A finding names the Secret and key, never the value.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { type Finding, finding } from '../findings.js';
import { findCredentials } from '../secret-patterns.js';
import { isPlaceholderValue } from '../secret-values.js';
import { isTestOrDoc } from '../secrets-scan.js';
import { declaresKind, KUBERNETES_YAML } from './manifest-kind.js';

const MAX_BYTES = 1024 * 1024;
const TEMPLATED = '__TEMPLATED__';

/**
 * Template expressions replaced by a marker, on the same lines: `{{ ... }}` is not YAML (a flow mapping), and the
 * value it produces is not in the file. indexOf, not a regex: linear on a file of unclosed `{{`.
 */
export function withoutTemplates(text: string): string {
  let out = '';
  let from = 0;
  for (let open = text.indexOf('{{', from); open !== -1; open = text.indexOf('{{', from)) {
    const close = text.indexOf('}}', open + 2);
    if (close === -1) break;
    const inner = text.slice(open, close + 2);
    // Keep the line count: a multi-line action becomes the marker and its newlines.
    out += text.slice(from, open) + TEMPLATED + '\n'.repeat(inner.split('\n').length - 1);
    from = close + 2;
  }
  return out + text.slice(from);
}

/** base64 as Kubernetes writes it; undefined when the value is not valid base64 (then it is judged as written). */
function decodeBase64(value: string): string | undefined {
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

function isEmptyOrPlaceholder(value: string): boolean {
  const text = value.trim();
  // `ENC[AES256_GCM,…]`: a SOPS-encrypted value, safe to commit by design.
  return text === '' || text.includes(TEMPLATED) || text.startsWith('ENC[') || isPlaceholderValue(text);
}

function isSecretManifest(text: string): boolean {
  return text.includes('Secret') && declaresKind(text, ['Secret']);
}

/** Findings for the Secrets in one YAML file's documents. */
export function kubernetesSecretFindings(text: string, path: string): Finding[] {
  if (!isSecretManifest(text)) return [];
  const findings: Finding[] = [];
  const counter = new LineCounter();
  const lenient = isTestOrDoc(path);
  for (const doc of parseAllDocuments(withoutTemplates(text), {
    ...KUBERNETES_YAML,
    lineCounter: counter,
    logLevel: 'error',
  })) {
    let manifest: unknown;
    try {
      manifest = doc.toJS();
    } catch {
      continue;
    }
    if (!manifest || typeof manifest !== 'object') continue;
    const { kind, metadata } = manifest as { kind?: unknown; metadata?: { name?: unknown } };
    if (kind !== 'Secret') continue; // SealedSecret, ExternalSecret, SecretProviderClass: no values in them
    const name = typeof metadata?.name === 'string' && !metadata.name.includes(TEMPLATED) ? metadata.name : '(unnamed)';
    for (const field of ['data', 'stringData'] as const) {
      const entries = (manifest as Record<string, unknown>)[field];
      if (!entries || typeof entries !== 'object') continue;
      for (const [key, raw] of Object.entries(entries as Record<string, unknown>)) {
        if (raw === null || raw === undefined) continue;
        const written = String(raw);
        const value = field === 'data' ? (decodeBase64(written) ?? written) : written;
        if (isEmptyOrPlaceholder(value)) continue;
        const node = doc.getIn([field, key], true) as { range?: [number, number] } | undefined;
        const where = node?.range ? `${path}:${counter.linePos(node.range[0]).line}` : path;
        for (const match of findCredentials(value)) {
          findings.push(
            finding(
              match.class === 'test' ? 'files.secret.test-credential' : 'files.secret.pattern',
              `${path}: Secret "${name}" ${field}.${key} holds a ${match.rule}`,
              where,
            ),
          );
        }
        // Example manifests in docs and tests hold sample values on purpose; key formats above still count there.
        if (lenient) continue;
        findings.push(
          finding('files.k8s.secret', `${path}: Secret "${name}" commits a value for ${field}.${key}`, where),
        );
      }
    }
  }
  return findings;
}

/** Every Kubernetes Secret manifest among `files` (paths relative to `dir`). */
export function auditKubernetesSecrets(dir: string, files: string[]): Finding[] {
  const findings: Finding[] = [];
  for (const file of files) {
    // JSON too: kubectl applies a `{"kind": "Secret", ...}` file as readily as a YAML one.
    if (!/\.(ya?ml|json)$/i.test(file)) continue;
    const full = join(dir, file);
    try {
      if (statSync(full).size > MAX_BYTES) continue;
      findings.push(...kubernetesSecretFindings(readFileSync(full, 'utf8'), file));
    } catch {
      // Unreadable: the content scan reports nothing for it either.
    }
  }
  return findings;
}
