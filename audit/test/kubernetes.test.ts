/**
 * The auditor on the repository's own Kubernetes manifests (deploy/k8s): a copy passes with nothing at warning or
 * above, and each broken copy (privileged, a secret in env, hostPath, hostNetwork, NetworkPolicies deleted or
 * loosened, an unrestricted container, a Secret as environment) is flagged under its own ID.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '@ironclad/testkit/gate';
import { afterAll, describe, expect, it } from 'vitest';
import { auditFiles } from '../src/file-checks.js';
import { type CheckId, type Finding, severityRank } from '../src/findings.js';
import { randomKey, removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

const BASE = 'deploy/k8s/base';

/** A copy of deploy/k8s in a fresh directory, changed by `edit` (file → new text). */
function copy(edit: (read: (file: string) => string, write: (file: string, text: string) => void) => void): string {
  const dir = tempDir('ironclad-audit-k8s-');
  cpSync(join(REPO, 'deploy/k8s'), join(dir, 'deploy/k8s'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.env\n');
  // Audited as Ironclad Tasks, whose checkout has its generated .env.example.
  cpSync(join(REPO, '.env.example'), join(dir, '.env.example'));
  edit(
    (file) => readFileSync(join(dir, file), 'utf8'),
    (file, text) => writeFileSync(join(dir, file), text),
  );
  return dir;
}

/** `text` with `from` replaced once; fails when `from` is not there (the manifests changed under the test). */
function replaced(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

async function audit(dir: string): Promise<Finding[]> {
  return (await auditFiles(dir, { app: 'ironclad' })).findings;
}

const serious = (findings: Finding[]) =>
  findings.filter((item) => severityRank(item.severity) >= severityRank('warning'));
const idsOf = (findings: Finding[]) => new Set(findings.map((item) => item.id));

const API = `${BASE}/api-deployment.yaml`;
const API_CONTAINER_SECURITY = `          securityContext:
            runAsNonRoot: true`;

const BREAKAGES: [string, CheckId, (read: (f: string) => string, write: (f: string, t: string) => void) => void][] = [
  [
    'a privileged container',
    'files.container.privileged',
    (read, write) =>
      write(
        API,
        replaced(read(API), API_CONTAINER_SECURITY, `${API_CONTAINER_SECURITY}\n            privileged: true`),
      ),
  ],
  [
    'a secret key as an env literal',
    'files.secret.hardcoded',
    (read, write) =>
      write(
        API,
        replaced(
          read(API),
          '          env:\n',
          `          env:\n            - name: SECRET_KEY\n              value: "${randomKey(60)}"\n`,
        ),
      ),
  ],
  [
    'a hostPath volume',
    'files.k8s.host-path',
    (read, write) =>
      write(
        API,
        replaced(
          read(API),
          '      volumes:\n',
          '      volumes:\n        - name: logs\n          hostPath:\n            path: /var/log\n',
        ),
      ),
  ],
  [
    'hostNetwork',
    'files.container.host-namespace',
    (read, write) =>
      write(
        API,
        replaced(
          read(API),
          '      enableServiceLinks: false\n',
          '      enableServiceLinks: false\n      hostNetwork: true\n',
        ),
      ),
  ],
  [
    'the NetworkPolicies deleted',
    'files.k8s.no-network-policy',
    (read, write) => {
      rmPolicies(read, write);
    },
  ],
  [
    'the default deny deleted',
    'files.k8s.no-default-deny',
    (read, write) => {
      const file = `${BASE}/network-policies.yaml`;
      write(file, replaced(read(file), 'policyTypes: ["Ingress", "Egress"]\n---', 'policyTypes: ["Egress"]\n---'));
    },
  ],
  [
    'a writable root filesystem',
    'files.k8s.not-restricted',
    (read, write) => write(API, replaced(read(API), 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false')),
  ],
  [
    'a Secret as environment',
    'files.k8s.secret-env',
    (read, write) =>
      write(
        API,
        replaced(
          read(API),
          '          env:\n',
          '          env:\n            - name: SMTP_URL\n              valueFrom:\n                secretKeyRef: { name: ironclad-api-secrets, key: smtp_url }\n',
        ),
      ),
  ],
  [
    'the API port open to an address block (TRUST_PROXY no longer fenced)',
    'config.trust-proxy.range',
    (read, write) => {
      const file = `${BASE}/network-policies.yaml`;
      write(
        file,
        replaced(
          read(file),
          '    - from:\n        - podSelector:',
          '    - from:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n        - podSelector:',
        ),
      );
    },
  ],
];

/** The base's policies file emptied and dropped from its kustomization, as someone removing them would. */
function rmPolicies(read: (f: string) => string, write: (f: string, t: string) => void): void {
  write(`${BASE}/kustomization.yaml`, replaced(read(`${BASE}/kustomization.yaml`), '  - network-policies.yaml\n', ''));
  write(`${BASE}/network-policies.yaml`, '');
  write(
    'deploy/k8s/overlays/production/kustomization.yaml',
    replaced(read('deploy/k8s/overlays/production/kustomization.yaml'), '  - path: database-egress.yaml\n', ''),
  );
  write('deploy/k8s/overlays/production/database-egress.yaml', '');
}

describe('the auditor on deploy/k8s', () => {
  it('finds nothing at warning or above on a copy; the TRUST_PROXY range is reported as fenced (info)', async () => {
    const findings = await audit(copy(() => {}));
    expect(serious(findings)).toEqual([]);
    const fenced = findings.filter((item) => item.id === 'files.k8s.trust-proxy-fenced');
    expect(fenced.map((item) => item.location)).toEqual([
      `${BASE}/api-config.yaml:24`,
      'deploy/k8s/overlays/production/api-config.yaml:10',
    ]);
  });

  it.each(BREAKAGES)('flags %s as %s', async (_what, id, edit) => {
    const findings = await audit(copy(edit));
    expect(idsOf(findings)).toContain(id);
  });

  it('with the NetworkPolicies gone, the TRUST_PROXY range is a warning again', async () => {
    const findings = await audit(copy(rmPolicies));
    expect(idsOf(findings)).toContain('config.trust-proxy.range');
    expect(idsOf(findings)).not.toContain('files.k8s.trust-proxy-fenced');
  });

  it('judges a kustomize patch as the partial object it is, but a lone partial Deployment as a whole one', async () => {
    const patched = await audit(copy(() => {}));
    expect(patched.filter((item) => item.location?.includes('api-resources.yaml'))).toEqual([]);
    const dir = copy(() => {});
    rmSync(join(dir, 'deploy/k8s/overlays/production/kustomization.yaml'));
    const lone = await audit(dir);
    expect(
      lone.filter((item) => item.id === 'files.k8s.not-restricted' && item.location?.includes('api-resources.yaml')),
    ).toHaveLength(1);
  });
});
