/**
 * deploy/k8s rendered and checked offline (there is no cluster here): `kubectl kustomize` renders the base and the
 * production overlay, every object is validated against the Kubernetes OpenAPI schemas (kubernetes-models, whose
 * validators are generated from Kubernetes 1.27's OpenAPI document), and the promises of deploy/test/k8s-promises.ts
 * are checked on the rendered objects. Each promise is then run on broken copies, and must fail on every one.
 *
 * What the schemas catch: wrong types, missing required fields, malformed quantities and formats. What they do not:
 * unknown fields (Kubernetes's OpenAPI document does not forbid them; the API server does with strict field
 * validation). The promises read the security fields by their real names, so a misspelled one fails there.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gateFor, REPO } from '@ironclad/testkit/gate';
import * as models from 'kubernetes-models';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type K8sObject, PROMISES, type Rendered, SECRET_KEY, type Variant } from './k8s-promises.js';

const gate = await gateFor('kubernetes manifests', ['kubectl']);

const DIRS: Record<Variant, string> = {
  base: join(REPO, 'deploy/k8s/base'),
  production: join(REPO, 'deploy/k8s/overlays/production'),
};

function render(variant: Variant): Rendered {
  const kubectl = gate.paths.kubectl as string;
  const text = execFileSync(kubectl, ['kustomize', DIRS[variant]], { encoding: 'utf8', timeout: 60_000 });
  const objects = parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as K8sObject;
  });
  return { variant, objects };
}

type Validator = new (data: unknown) => { validate(): void };

/** The kubernetes-models class for an apiVersion and kind: `networking.k8s.io/v1` is models.networkingK8sIo.v1. */
function modelFor(apiVersion: string, kind: string): Validator | undefined {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  const key =
    group === ''
      ? 'v1'
      : group
          .split('.')
          .map((part, i) => (i === 0 ? part : part[0]?.toUpperCase() + part.slice(1)))
          .join('');
  const groupModule = (models as unknown as Record<string, Record<string, unknown>>)[key];
  const versionModule = (group === '' ? groupModule : groupModule?.[version]) as Record<string, Validator> | undefined;
  return versionModule?.[kind];
}

function schemaProblems(rendered: Rendered): string[] {
  const problems: string[] = [];
  for (const object of rendered.objects) {
    const Model = modelFor(object.apiVersion, object.kind);
    if (!Model) {
      problems.push(`${object.apiVersion} ${object.kind}: no schema`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${object.kind}/${object.metadata?.name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

// --- Broken copies: each promise must see each of its own breakages ---

// biome-ignore lint/suspicious/noExplicitAny: a breakage reaches into any field of the rendered objects
type Json = Record<string, any>;

function find(rendered: Rendered, kind: string, name: string): Json {
  const found = rendered.objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found as Json;
}
const apiContainer = (r: Rendered) => find(r, 'Deployment', 'api').spec.template.spec.containers[0];
const webContainer = (r: Rendered) => find(r, 'Deployment', 'web').spec.template.spec.containers[0];
const apiPod = (r: Rendered) => find(r, 'Deployment', 'api').spec.template.spec;
const policy = (r: Rendered, name: string) => find(r, 'NetworkPolicy', name).spec;

const BREAKAGES: Record<string, Record<string, (r: Rendered) => void>> = {
  restricted: {
    'privilege escalation': (r) => {
      apiContainer(r).securityContext.allowPrivilegeEscalation = true;
    },
    'root user': (r) => {
      webContainer(r).securityContext.runAsUser = 0;
    },
    'writable root': (r) => {
      delete find(r, 'Job', 'migrate').spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem;
    },
    'capabilities kept': (r) => {
      apiContainer(r).securityContext.capabilities.drop = ['NET_RAW'];
    },
    'seccomp off': (r) => {
      apiContainer(r).securityContext.seccompProfile = { type: 'Unconfined' };
    },
    'token mounted': (r) => {
      apiPod(r).automountServiceAccountToken = true;
    },
    hostPath: (r) => {
      apiPod(r).volumes.push({ name: 'host', hostPath: { path: '/etc' } });
    },
    hostNetwork: (r) => {
      apiPod(r).hostNetwork = true;
    },
    'namespace not restricted': (r) => {
      find(r, 'Namespace', 'ironclad').metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
    },
  },
  noSecretInEnvironment: {
    'literal key': (r) => {
      apiContainer(r).env.push({ name: SECRET_KEY, value: 'k'.repeat(60) });
    },
    secretKeyRef: (r) => {
      apiContainer(r).env.push({
        name: 'POSTGRES_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'ironclad-api-secrets', key: 'postgres_password' } },
      });
    },
    'secret in ConfigMap': (r) => {
      find(r, 'ConfigMap', 'api-config').data.SMTP_URL = 'smtps://u:p@smtp.example.com:465';
    },
    'envFrom Secret': (r) => {
      apiContainer(r).envFrom.push({ secretRef: { name: 'ironclad-api-secrets' } });
    },
  },
  secretFilesMounted: {
    'outside the mount': (r) => {
      apiContainer(r).env[0].value = '/etc/secret_key';
    },
    'key left out': (r) => {
      find(r, 'Job', 'migrate').spec.template.spec.containers[0].env.push({
        name: 'SMTP_URL_FILE',
        value: '/run/secrets/ironclad/smtp_url',
      });
    },
    'writable mount': (r) => {
      apiContainer(r).volumeMounts[0].readOnly = false;
    },
    'TLS key not from a Secret': (r) => {
      find(r, 'ConfigMap', 'web-config').data.TLS_KEY = '/tmp/tls.key';
    },
  },
  settingNamesKnown: {
    'misspelled setting': (r) => {
      find(r, 'ConfigMap', 'api-config').data.SHUTDOWN_DRAINN = '15s';
    },
    'misspelled nginx variable': (r) => {
      find(r, 'ConfigMap', 'web-config').data.RESOLVR = 'kube-dns.kube-system.svc.cluster.local';
    },
  },
  networkPolicies: {
    'default deny deleted': (r) => {
      r.objects = r.objects.filter((object) => object.metadata?.name !== 'default-deny');
    },
    'API open to an address block': (r) => {
      policy(r, 'api-ingress').ingress[0].from.push({ ipBlock: { cidr: '0.0.0.0/0' } });
    },
    'API port moved': (r) => {
      policy(r, 'api-ingress').ingress[0].ports[0].port = 8080;
    },
    'egress opened': (r) => {
      policy(r, 'web-egress').egress.push({});
    },
    'API listens elsewhere': (r) => {
      find(r, 'ConfigMap', 'api-config').data.PORT = '9000';
    },
  },
  probes: {
    'readiness on /healthz': (r) => {
      apiContainer(r).readinessProbe.httpGet.path = '/healthz';
    },
    'liveness on another port': (r) => {
      apiContainer(r).livenessProbe.httpGet.port = 8001;
    },
  },
  rollingUpdates: {
    'maxUnavailable 1': (r) => {
      find(r, 'Deployment', 'api').spec.strategy.rollingUpdate.maxUnavailable = 1;
    },
    'no surge': (r) => {
      find(r, 'Deployment', 'web').spec.strategy.rollingUpdate.maxSurge = 0;
    },
  },
  drainTiming: {
    'grace too short': (r) => {
      apiPod(r).terminationGracePeriodSeconds = 20;
    },
    'drain too short': (r) => {
      find(r, 'ConfigMap', 'api-config').data.SHUTDOWN_DRAIN = '2s';
    },
    'longer timeout': (r) => {
      find(r, 'ConfigMap', 'api-config').data.SHUTDOWN_TIMEOUT = '30s';
    },
  },
  budgetsAndAutoscaler: {
    'autoscaler on another target': (r) => {
      find(r, 'HorizontalPodAutoscaler', 'api').spec.scaleTargetRef.name = 'apii';
    },
    'budget selects nothing': (r) => {
      find(r, 'PodDisruptionBudget', 'api').spec.selector.matchLabels['app.kubernetes.io/component'] = 'apx';
    },
  },
  resources: {
    'no limits': (r) => {
      delete apiContainer(r).resources.limits;
    },
    'several processes': (r) => {
      find(r, 'ConfigMap', 'api-config').data.WEB_CONCURRENCY = '4';
    },
  },
  frontDoor: {
    'conf.d not writable': (r) => {
      webContainer(r).volumeMounts = webContainer(r).volumeMounts.filter(
        (mount: Json) => mount.mountPath !== '/etc/nginx/conf.d',
      );
    },
    'short API name': (r) => {
      find(r, 'ConfigMap', 'web-config').data.API_UPSTREAM = 'api:8000';
    },
    'API Service public': (r) => {
      find(r, 'Service', 'api').spec.type = 'NodePort';
    },
    'API behind one virtual IP': (r) => {
      delete find(r, 'Service', 'api').spec.clusterIP;
    },
  },
  migrationJob: {
    'runs the server': (r) => {
      find(r, 'Job', 'migrate').spec.template.spec.containers[0].command = ['node', 'dist/main.js'];
    },
  },
  settingsLoad: {
    'public address not allowed': (r) => {
      find(r, 'ConfigMap', 'api-config').data.PUBLIC_URL = 'https://elsewhere.example.com';
    },
    'debug on': (r) => {
      find(r, 'ConfigMap', 'api-config').data.DEBUG = 'true';
    },
    'malformed proxy list': (r) => {
      find(r, 'ConfigMap', 'api-config').data.TRUST_PROXY = '10.42.0.0/99';
    },
  },
  productionChoices: {
    'image by tag': (r) => {
      if (r.variant === 'production') apiContainer(r).image = 'registry.example.com/ironclad-tasks-api:latest';
      else r.variant = 'production'; // the base's unpinned images are what the check refuses in production
    },
  },
};

gate.describe('Kubernetes manifests (deploy/k8s)', () => {
  const rendered = {} as Record<Variant, Rendered>;
  beforeAll(() => {
    rendered.base = render('base');
    rendered.production = render('production');
  });

  describe.each(['base', 'production'] as const)('%s', (variant) => {
    it('renders and every object validates against the Kubernetes OpenAPI schemas', () => {
      const { objects } = rendered[variant];
      expect(objects.length).toBeGreaterThanOrEqual(19);
      expect(schemaProblems(rendered[variant])).toEqual([]);
    });

    it.each(Object.keys(PROMISES))('keeps the promise: %s', (name) => {
      expect(PROMISES[name]?.(rendered[variant])).toEqual([]);
    });
  });

  it('the schema validation itself rejects a wrong type and an unknown kind', () => {
    const copy = structuredClone(rendered.production);
    find(copy, 'Deployment', 'api').spec.replicas = 'four';
    copy.objects.push({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'x' } });
    const problems = schemaProblems(copy);
    expect(problems.some((problem) => problem.includes('replicas must be integer'))).toBe(true);
    expect(problems).toContain('example.com/v1 Gadget: no schema');
  });

  it('every promise has broken copies, and fails on each of them', () => {
    expect(Object.keys(BREAKAGES).sort()).toEqual(Object.keys(PROMISES).sort());
    const kept: string[] = [];
    for (const [promise, breakages] of Object.entries(BREAKAGES)) {
      for (const [breakage, breakIt] of Object.entries(breakages)) {
        for (const variant of ['base', 'production'] as const) {
          const copy = structuredClone(rendered[variant]);
          breakIt(copy);
          if ((PROMISES[promise]?.(copy) ?? []).length === 0) kept.push(`${promise} on ${variant}: ${breakage}`);
        }
      }
    }
    expect(kept).toEqual([]);
  });
});
