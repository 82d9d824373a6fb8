/**
 * The auditor on the repository's own Kubernetes manifests (deploy/k8s): a copy passes with nothing at warning or
 * above, and each broken copy (privileged, a secret in env, hostPath, hostNetwork, NetworkPolicies deleted or
 * loosened, an unrestricted container, a Secret as environment) is flagged under its own ID. Then the evasions an
 * outside red team found in issue 16 (/tmp/redteam16/cases), each added to a clean copy: weakening kustomize
 * patches, JSON manifests, env literals in other layouts, allow-all and other-namespace NetworkPolicies, YAML merge
 * keys and 1.1 booleans, the rest of the restricted level, manifests too big or too templated to read, and the
 * `Kustomization` file name.
 */
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    (file, text) => {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    },
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

/** A clean copy with `files` added (path → text). */
function withFiles(files: Record<string, string>, edit?: Parameters<typeof copy>[0]): string {
  return copy((read, write) => {
    for (const [file, text] of Object.entries(files)) write(file, text);
    edit?.(read, write);
  });
}

const atFile = (findings: Finding[], file: string) => findings.filter((item) => item.location?.startsWith(file));

const RESTRICTED_POD = `  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}`;
const RESTRICTED_CONTAINER =
  'allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}';

/** A Pod in its own file, restricted but for what `container` (flow-mapping entries) and `spec` add. */
function pod(container: string, spec = ''): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: x, namespace: ironclad}',
    'spec:',
    RESTRICTED_POD,
    spec,
    `  containers: [{name: c, image: busybox, ${container}}]`,
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

const EXTRA = 'deploy/k8s/extra';
const PRODUCTION = 'deploy/k8s/overlays/production';

describe('the red team evasions of issue 16', () => {
  it('judges what a kustomize patch sets: root, escalation, a writable root, added capabilities, drop emptied', async () => {
    const patch = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: api}',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: api',
      '          securityContext:',
      '            runAsUser: 0',
      '            allowPrivilegeEscalation: true',
      '            readOnlyRootFilesystem: false',
      '            capabilities: {drop: [], add: [NET_ADMIN, NET_RAW]}',
      '',
    ].join('\n');
    const dir = withFiles({}, (read, write) => {
      write(`${PRODUCTION}/weaken.yaml`, patch);
      const kustomization = `${PRODUCTION}/kustomization.yaml`;
      write(kustomization, `${read(kustomization)}  - path: weaken.yaml\n`);
    });
    const found = atFile(await audit(dir), `${PRODUCTION}/weaken.yaml`);
    expect(found.map((item) => item.id)).toEqual(['files.k8s.not-restricted']);
    for (const part of [
      'runs as uid 0',
      'sets allowPrivilegeEscalation: true',
      'sets readOnlyRootFilesystem: false',
      'no capabilities.drop: [ALL]',
      'adds capabilities NET_ADMIN, NET_RAW',
    ]) {
      expect(found[0]?.message).toContain(part);
    }
    // And a patch written inside the kustomization (`patches[].patch`) is judged the same way.
    const inline = withFiles({}, (read, write) => {
      const kustomization = `${PRODUCTION}/kustomization.yaml`;
      const indented = patch
        .split('\n')
        .map((line) => (line ? `      ${line}` : line))
        .join('\n');
      write(kustomization, `${read(kustomization)}  - patch: |-\n${indented}`);
    });
    const inlineFound = (await audit(inline)).filter(
      (item) =>
        item.id === 'files.k8s.not-restricted' && item.location?.startsWith(`${PRODUCTION}/kustomization.yaml:`),
    );
    expect(inlineFound).toHaveLength(1);
    expect(inlineFound[0]?.message).toContain('runs as uid 0');
  });

  it('judges a development-named patch that a production kustomization uses; a development overlay may loosen', async () => {
    const patch = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: api}',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: api',
      '          securityContext: {runAsUser: 0}',
      '',
    ].join('\n');
    // overlays/production lists debug-shell.yaml: production runs it, whatever it is called.
    const used = withFiles({}, (read, write) => {
      write(`${PRODUCTION}/debug-shell.yaml`, patch);
      const kustomization = `${PRODUCTION}/kustomization.yaml`;
      write(kustomization, `${read(kustomization)}  - path: debug-shell.yaml\n`);
    });
    const found = atFile(await audit(used), `${PRODUCTION}/debug-shell.yaml`);
    expect(found.map((item) => item.id)).toEqual(['files.k8s.not-restricted']);
    expect(found[0]?.message).toContain('runs as uid 0');
    // The same patch in a development overlay of its own (overlays/dev) is what such an overlay is for.
    const dev = withFiles({}, (_read, write) => {
      write('deploy/k8s/overlays/dev/debug-shell.yaml', patch);
      write(
        'deploy/k8s/overlays/dev/kustomization.yaml',
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\npatches:\n  - path: debug-shell.yaml\n',
      );
    });
    expect(atFile(await audit(dev), 'deploy/k8s/overlays/dev/debug-shell.yaml')).toEqual([]);
  });

  it('judges what a JSON 6902 patch writes (a file, or inline), and not what it removes', async () => {
    const operations = [
      '- op: replace',
      '  path: /spec/template/spec/containers/0/securityContext/privileged',
      '  value: true',
      '- op: add',
      '  path: /spec/template/spec/containers/0/securityContext/capabilities',
      '  value: {drop: [ALL], add: [NET_ADMIN]}',
      '- op: remove',
      '  path: /spec/template/spec/containers/0/resources',
      '',
    ].join('\n');
    const target = '    target: {kind: Deployment, name: api}\n';
    const dir = withFiles({}, (read, write) => {
      write(`${PRODUCTION}/escalate.yaml`, operations);
      const kustomization = `${PRODUCTION}/kustomization.yaml`;
      const indented = operations
        .split('\n')
        .map((line) => (line ? `      ${line}` : line))
        .join('\n');
      write(
        kustomization,
        `${read(kustomization)}  - path: escalate.yaml\n${target}  - patch: |-\n${indented}${target}`,
      );
    });
    const findings = await audit(dir);
    for (const file of [`${PRODUCTION}/escalate.yaml`, `${PRODUCTION}/kustomization.yaml`]) {
      const found = atFile(findings, file);
      expect(new Set(found.map((item) => item.id))).toEqual(
        new Set(['files.container.privileged', 'files.k8s.not-restricted']),
      );
      expect(found.find((item) => item.id === 'files.k8s.not-restricted')?.message).toContain(
        'adds capabilities NET_ADMIN',
      );
    }
  });

  it('audits JSON manifests (.json, and JSON in a .yaml), and leaves other JSON alone', async () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x' },
      spec: {
        hostNetwork: true,
        volumes: [{ name: 'h', hostPath: { path: '/' } }],
        containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }],
      },
    });
    const dir = withFiles({
      [`${EXTRA}/pod.json`]: json,
      [`${EXTRA}/pod-as-yaml.yaml`]: json,
      // Not Kubernetes objects: no string apiVersion and kind.
      'package.json': JSON.stringify({ name: 'x', type: 'module', kind: 'Pod', spec: { hostNetwork: true } }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true } }),
    });
    const findings = await audit(dir);
    for (const file of [`${EXTRA}/pod.json`, `${EXTRA}/pod-as-yaml.yaml`]) {
      expect(new Set(atFile(findings, file).map((item) => item.id))).toEqual(
        new Set([
          'files.container.privileged',
          'files.container.host-namespace',
          'files.k8s.host-path',
          'files.k8s.not-restricted',
        ]),
      );
    }
    expect(atFile(findings, 'package.json')).toEqual([]);
    // A JSON Secret is a committed Secret like a YAML one.
    const secret = await audit(
      withFiles({
        [`${EXTRA}/secret.json`]: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'api' },
          stringData: { password: randomKey(24) },
        }),
      }),
    );
    expect(atFile(secret, `${EXTRA}/secret.json`).map((item) => item.id)).toContain('files.k8s.secret');
    expect(atFile(findings, 'tsconfig.json')).toEqual([]);
  });

  it('finds a literal secret in env whatever the layout, once, without its value; a $(VAR) reference passes', async () => {
    const key = randomKey(60);
    const password = randomKey(20);
    const deployment = (env: string) =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: api2, namespace: ironclad}',
        'spec:',
        '  template:',
        '    spec:',
        `    ${RESTRICTED_POD}`,
        '      containers:',
        '        - name: api',
        '          image: ironclad-tasks-api',
        `          securityContext: {${RESTRICTED_CONTAINER}}`,
        '          env:',
        env,
        '',
      ].join('\n');
    const dir = withFiles({
      [`${EXTRA}/flow.yaml`]: deployment(`            - {name: SECRET_KEY, value: ${key}}`),
      [`${EXTRA}/reversed.yaml`]: deployment(`            - value: ${password}\n              name: POSTGRES_PASSWORD`),
      [`${EXTRA}/reference.yaml`]: deployment(
        '            - {name: DATABASE_URL, value: "postgres://app:$(DB_PASSWORD)@db:5432/app"}',
      ),
    });
    const findings = await audit(dir);
    const literal = (file: string) =>
      findings.filter((item) => item.id === 'files.secret.hardcoded' && item.location?.startsWith(file));
    expect(literal(`${EXTRA}/flow.yaml`).map((item) => item.location)).toEqual([`${EXTRA}/flow.yaml:13`]);
    expect(literal(`${EXTRA}/flow.yaml`)[0]?.message).toContain('SECRET_KEY');
    expect(literal(`${EXTRA}/reversed.yaml`).map((item) => item.location)).toEqual([`${EXTRA}/reversed.yaml:13`]);
    expect(literal(`${EXTRA}/reference.yaml`)).toEqual([]);
    const text = JSON.stringify(findings);
    expect(text).not.toContain(key.slice(8, 24));
    expect(text).not.toContain(password.slice(4, 16));
  });

  it('flags an allow-all NetworkPolicy, which also unfences TRUST_PROXY', async () => {
    const dir = withFiles({
      [`${BASE}/allow-all.yaml`]: [
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: {name: allow-all}',
        'spec:',
        '  podSelector: {}',
        '  policyTypes: [Ingress, Egress]',
        '  ingress: [{}]',
        '  egress: [{}]',
        '',
      ].join('\n'),
    });
    const findings = await audit(dir);
    const allowAll = findings.filter((item) => item.id === 'files.k8s.network-policy-allows-all');
    expect(allowAll.map((item) => item.location)).toEqual([`${BASE}/allow-all.yaml:1`]);
    expect(allowAll[0]?.message).toContain('ingress and egress');
    expect(idsOf(findings)).toContain('config.trust-proxy.range');
    expect(idsOf(findings)).not.toContain('files.k8s.trust-proxy-fenced');
  });

  it("counts a default deny only in the workloads' namespace (the kustomization's namespace: counts)", async () => {
    const policies = `${BASE}/network-policies.yaml`;
    const dropDeny = (read: (f: string) => string, write: (f: string, t: string) => void) =>
      write(
        policies,
        replaced(read(policies), 'policyTypes: ["Ingress", "Egress"]\n---', 'policyTypes: ["Egress"]\n---'),
      );
    const otherNamespace = [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata: {name: default-deny, namespace: some-other-namespace}',
      'spec:',
      '  podSelector: {}',
      '  policyTypes: [Ingress]',
      '',
    ].join('\n');
    // Outside the base's folder, so its kustomization does not move it to the workloads' namespace.
    const elsewhere = await audit(withFiles({ 'deploy/other/deny.yaml': otherNamespace }, dropDeny));
    expect(idsOf(elsewhere)).toContain('files.k8s.no-default-deny');
    expect(idsOf(elsewhere)).toContain('config.trust-proxy.range');
    // The same policy under the base: kustomize sets namespace ironclad on it, so it is the workloads' deny.
    const moved = await audit(withFiles({ [`${BASE}/deny.yaml`]: otherNamespace }, dropDeny));
    expect(serious(moved)).toEqual([]);
  });

  it('reads YAML as the cluster does: merge keys, on/yes, a repeated key', async () => {
    const dir = withFiles({
      [`${EXTRA}/merge.yaml`]: pod(`securityContext: {<<: &sc {privileged: true, ${RESTRICTED_CONTAINER}}}`),
      [`${EXTRA}/on.yaml`]: pod(`securityContext: {privileged: on, ${RESTRICTED_CONTAINER}}`, '  hostNetwork: yes'),
      [`${EXTRA}/repeated.yaml`]: pod(
        `securityContext: {privileged: false, ${RESTRICTED_CONTAINER}}, securityContext: {privileged: true}`,
      ),
    });
    const findings = await audit(dir);
    for (const file of ['merge.yaml', 'on.yaml', 'repeated.yaml']) {
      expect(atFile(findings, `${EXTRA}/${file}`).map((item) => item.id)).toContain('files.container.privileged');
    }
    expect(atFile(findings, `${EXTRA}/on.yaml`).map((item) => item.id)).toContain('files.container.host-namespace');
  });

  it.each([
    [
      'an added capability',
      `securityContext: {${RESTRICTED_CONTAINER.replace('[ALL]', '[ALL], add: [NET_RAW]')}}`,
      '',
      'adds capabilities NET_RAW',
    ],
    [
      'a hostPort',
      `ports: [{containerPort: 22, hostPort: 22}], securityContext: {${RESTRICTED_CONTAINER}}`,
      '',
      'hostPort 22',
    ],
    [
      'procMount: Unmasked',
      `securityContext: {procMount: Unmasked, ${RESTRICTED_CONTAINER}}`,
      '',
      'procMount: Unmasked',
    ],
    [
      'an SELinux type',
      `securityContext: {seLinuxOptions: {type: spc_t}, ${RESTRICTED_CONTAINER}}`,
      '',
      'seLinuxOptions.type spc_t',
    ],
    [
      'an SELinux user',
      `securityContext: {seLinuxOptions: {user: system_u}, ${RESTRICTED_CONTAINER}}`,
      '',
      'seLinuxOptions.user set',
    ],
    [
      'an unsafe sysctl',
      `securityContext: {${RESTRICTED_CONTAINER}}`,
      '  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}, sysctls: [{name: kernel.msgmax, value: "65536"}]}',
      'sysctl kernel.msgmax',
    ],
  ])('counts %s as not restricted', async (_what, container, spec, message) => {
    const text = spec ? pod(container).replace(RESTRICTED_POD, spec) : pod(container);
    const findings = atFile(await audit(withFiles({ [`${EXTRA}/pod.yaml`]: text })), `${EXTRA}/pod.yaml`);
    expect(findings.map((item) => item.id)).toEqual(['files.k8s.not-restricted']);
    expect(findings[0]?.message).toContain(message);
  });

  it('names the manifests it could not read (too big, a Helm template) instead of calling them clean', async () => {
    const privileged = pod('securityContext: {privileged: true}');
    const big = `${privileged}${'# padding\n'.repeat(120_000)}`;
    const helm = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: {{ include "app.fullname" . }}',
      'spec:',
      '  template:',
      '    spec:',
      '      {{- if .Values.hostNetwork }}',
      '      hostNetwork: true',
      '      {{- end }}',
      '      containers: []',
      '',
    ].join('\n');
    const clean = await audit(copy(() => {}));
    expect(idsOf(clean)).not.toContain('files.k8s.not-audited');
    const dir = withFiles({ [`${EXTRA}/big.yaml`]: big, 'chart/templates/deployment.yaml': helm });
    const notAudited = (await audit(dir)).filter((item) => item.id === 'files.k8s.not-audited');
    expect(notAudited).toHaveLength(1);
    expect(notAudited[0]?.severity).toBe('info');
    expect(notAudited[0]?.message).toContain(`${EXTRA}/big.yaml (over`);
    expect(notAudited[0]?.message).toContain('chart/templates/deployment.yaml (not YAML');
  });

  it('recognises a kustomization named Kustomization, so its patches are patches', async () => {
    const dir = copy(() => {});
    renameSync(join(dir, `${PRODUCTION}/kustomization.yaml`), join(dir, `${PRODUCTION}/Kustomization`));
    const findings = await audit(dir);
    expect(atFile(findings, `${PRODUCTION}/api-resources.yaml`)).toEqual([]);
    expect(serious(findings)).toEqual([]);
  });
});
