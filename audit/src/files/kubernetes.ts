/**
 * Container escapes in Kubernetes manifests: any YAML file (multi-document, kustomize bases included; Helm
 * templates that are not YAML are skipped) holding a workload (`Pod`, `Deployment`, `StatefulSet`, `DaemonSet`,
 * `ReplicaSet`, `Job`, `CronJob`, `ReplicationController`, also inside a `List`). Reported under the same IDs as the
 * compose checks: `securityContext.privileged`, `hostPID`/`hostIPC`/`hostNetwork`, a `hostPath` volume of the runtime
 * socket, escape-grade `capabilities.add`, and seccomp/AppArmor `Unconfined`. Kubernetes-only: any other `hostPath`
 * volume (`files.k8s.host-path`), a container short of the restricted Pod Security settings
 * (`files.k8s.not-restricted`), a Secret handed over as environment (`files.k8s.secret-env`), and the checkout's
 * NetworkPolicies as a whole (k8s-network-policies.ts). A secret's literal value in a container's env is the secret
 * scan's (`files.secret.hardcoded`), as in any other file. (Kubernetes Secrets are another module's: k8s-secrets.ts.)
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { type Document, LineCounter, parse, parseAllDocuments } from 'yaml';
import type { AppKind } from '../app-kind.js';
import { LIMITS } from '../file-checks.js';
import { type Finding, finding } from '../findings.js';
import { isTestOrDoc } from '../secrets-scan.js';
import { developmentReason } from './compose.js';
import type { EnvEntry } from './compose-env.js';
import { judgeEnvironment } from './compose-settings.js';
import { escapeCapabilities, isTrue, runtimeSocket } from './container-escapes.js';
import {
  emptyPolicySet,
  fencesPort,
  isDefaultDenyIngress,
  notePolicyObject,
  notePolicyText,
  type PolicySet,
} from './k8s-network-policies.js';
import { declaresKind } from './manifest-kind.js';

const SKIPPED_FOLDERS = new Set(['node_modules', '.git', 'vendor', 'bower_components', 'third_party', '.venv', 'venv']);

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

type Path = (string | number)[];
type Json = Record<string, unknown>;

function objectAt(value: unknown, path: Path): Json | undefined {
  let current: unknown = value;
  for (const key of path) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current && typeof current === 'object' && !Array.isArray(current) ? (current as Json) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isUnconfined(profile: unknown): boolean {
  const type = (profile as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' && type.toLowerCase() === 'unconfined';
}

interface Context {
  file: string;
  /** A kustomize patch: a partial object, so what it leaves out is the base's to say. */
  patch: boolean;
  doc: Document.Parsed;
  lines: LineCounter;
  findings: Finding[];
  /** The checkout deploys Ironclad Tasks (compose-settings.ts reads its PUBLIC_URL and SMTP_URL then). */
  ironclad: boolean;
}

function lineOf(context: Context, path: Path): string {
  for (let length = path.length; length >= 1; length -= 1) {
    const node = context.doc.getIn(path.slice(0, length), true) as { range?: [number, number] } | undefined;
    if (node?.range) return `${context.file}:${context.lines.linePos(node.range[0]).line}`;
  }
  return context.file;
}

function auditWorkload(context: Context, workload: Json, base: Path): void {
  const kind = String(workload.kind);
  const specPath = POD_SPEC_PATHS[kind];
  if (!specPath) return;
  const spec = objectAt(workload, specPath);
  if (!spec) return;
  const name = String(objectAt(workload, ['metadata'])?.name ?? '?');
  const what = `${kind} "${name}"`;
  const at = (...path: Path) => lineOf(context, [...base, ...specPath, ...path]);
  const push = (id: Parameters<typeof finding>[0], message: string, where: string) =>
    context.findings.push(finding(id, `${context.file}: ${what} ${message}`, where));

  for (const key of ['hostPID', 'hostIPC', 'hostNetwork'] as const) {
    if (isTrue(spec[key])) push('files.container.host-namespace', `sets ${key}: true`, at(key));
  }
  list(spec.volumes).forEach((volume, index) => {
    const hostPath = (volume as { hostPath?: { path?: unknown } } | undefined)?.hostPath;
    if (!hostPath) return;
    const path = hostPath.path;
    const socket = typeof path === 'string' ? runtimeSocket(path) : undefined;
    if (socket) push('files.container.docker-socket', `mounts hostPath ${socket}`, at('volumes', index));
    else
      push('files.k8s.host-path', `mounts the node's ${String(path ?? '(no path)')} (hostPath)`, at('volumes', index));
  });
  const podSecurity = objectAt(spec, ['securityContext']);
  if (isUnconfined(podSecurity?.seccompProfile) || isUnconfined(podSecurity?.appArmorProfile)) {
    push(
      'files.container.capabilities',
      'turns seccomp or AppArmor off for the pod (Unconfined)',
      at('securityContext'),
    );
  }
  const annotations = objectAt(workload, [...specPath.slice(0, -1), 'metadata', 'annotations']) ?? {};
  for (const [key, value] of Object.entries(annotations)) {
    if (
      (key.startsWith('container.apparmor.security.beta.kubernetes.io/') ||
        key === 'seccomp.security.alpha.kubernetes.io/pod') &&
      String(value).toLowerCase() === 'unconfined'
    ) {
      push('files.container.capabilities', `turns confinement off (annotation ${key}: unconfined)`, at());
    }
  }
  for (const group of ['containers', 'initContainers'] as const) {
    list(spec[group]).forEach((container, index) => {
      const env = new Map<string, EnvEntry>();
      list((container as Json | undefined)?.env).forEach((item, position) => {
        const entry = item as { name?: unknown; value?: unknown } | undefined;
        if (typeof entry?.name !== 'string' || entry.value === undefined || entry.value === null) return;
        env.set(entry.name, {
          name: entry.name,
          value: String(entry.value),
          owned: true,
          where: at(group, index, 'env', position),
          how: 'container env',
        });
      });
      const containerName = String((container as Json | undefined)?.name ?? index);
      if (env.size > 0)
        context.findings.push(...judgeManifestEnvironment(context, `${what} container "${containerName}"`, env));
    });
  }
  for (const group of ['containers', 'initContainers'] as const) {
    list(spec[group]).forEach((container, index) => {
      const containerName = `container "${String((container as Json | undefined)?.name ?? index)}"`;
      const where = at(group, index);
      const missing = unrestricted(podSecurity ?? {}, objectAt(container, ['securityContext']) ?? {});
      if (missing.length > 0 && !context.patch && !developmentReason(context.file)) {
        push('files.k8s.not-restricted', `${containerName} is not restricted: ${missing.join(', ')}`, where);
      }
      const fromSecrets = [
        ...list((container as Json | undefined)?.env)
          .filter((item) => objectAt(item, ['valueFrom', 'secretKeyRef']))
          .map((item) => String((item as Json).name)),
        ...list((container as Json | undefined)?.envFrom)
          .filter((item) => objectAt(item, ['secretRef']))
          .map((item) => `all of Secret "${String(objectAt(item, ['secretRef'])?.name ?? '?')}"`),
      ];
      if (fromSecrets.length > 0) {
        push(
          'files.k8s.secret-env',
          `${containerName} gets ${fromSecrets.join(', ')} from a Secret as environment`,
          where,
        );
      }
    });
  }
  for (const group of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    list(spec[group]).forEach((container, index) => {
      const security = objectAt(container, ['securityContext']);
      if (!security) return;
      const containerName = `container "${String((container as Json).name ?? index)}"`;
      const where = at(group, index, 'securityContext');
      if (isTrue(security.privileged))
        push('files.container.privileged', `${containerName} sets privileged: true`, where);
      for (const capability of escapeCapabilities(objectAt(security, ['capabilities'])?.add)) {
        push('files.container.capabilities', `${containerName} adds capability ${capability}`, where);
      }
      if (isUnconfined(security.seccompProfile) || isUnconfined(security.appArmorProfile)) {
        push('files.container.capabilities', `${containerName} turns seccomp or AppArmor off (Unconfined)`, where);
      }
    });
  }
}

const isFalse = (value: unknown) =>
  value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'false');

/**
 * What a container lacks of the restricted Pod Security Standard (plus a read-only root filesystem, which the
 * standard leaves out and compose's `read_only` asks): each missing setting, as the fix would write it. Unconfined
 * seccomp is files.container.capabilities' (an error), not repeated here.
 */
function unrestricted(pod: Json, container: Json): string[] {
  const missing: string[] = [];
  const runAsNonRoot = container.runAsNonRoot ?? pod.runAsNonRoot;
  const runAsUser = container.runAsUser ?? pod.runAsUser;
  if (runAsUser === 0 || runAsUser === '0') missing.push('runs as uid 0');
  else if (!isTrue(runAsNonRoot)) missing.push('no runAsNonRoot: true');
  if (!isFalse(container.allowPrivilegeEscalation)) missing.push('no allowPrivilegeEscalation: false');
  if (!isTrue(container.readOnlyRootFilesystem)) missing.push('no readOnlyRootFilesystem: true');
  const drop = list(objectAt(container, ['capabilities'])?.drop).map((item) => String(item).toUpperCase());
  if (!drop.includes('ALL') && !drop.includes('CAP_ALL')) missing.push('no capabilities.drop: [ALL]');
  const seccomp = objectAt(container, ['seccompProfile']) ?? objectAt(pod, ['seccompProfile']);
  const type = String(seccomp?.type ?? '').toLowerCase();
  if (type !== 'runtimedefault' && type !== 'localhost' && type !== 'unconfined') {
    missing.push('no seccompProfile: RuntimeDefault');
  }
  return missing;
}

/** A cheap test before parsing: a workload kind (or a ConfigMap, whose data is an environment) is named. */
function mentionsWorkload(text: string): boolean {
  if (!text.includes('kind:')) return false;
  return (
    text.includes('ConfigMap') ||
    text.includes('NetworkPolicy') ||
    Object.keys(POD_SPEC_PATHS).some((kind) => text.includes(kind))
  );
}

/**
 * A container's env and a ConfigMap's data are the application's environment, as a compose service's
 * `environment:` is: judged by the same settings rules, with the same Django/Node names (compose-settings.ts).
 */
function judgeManifestEnvironment(context: Context, what: string, env: Map<string, EnvEntry>): Finding[] {
  // A development overlay (overlays/dev, *.local.yaml) may turn DEBUG on: that is what it is for.
  if (developmentReason(context.file)) return [];
  return judgeEnvironment(
    { service: what, label: what, composeFile: context.file, datastore: false, dir: '.', ironclad: context.ironclad },
    env,
  );
}

function auditConfigMap(context: Context, configMap: Json, base: Path): void {
  const data = objectAt(configMap, ['data']);
  if (!data) return;
  const name = String(objectAt(configMap, ['metadata'])?.name ?? '?');
  const env = new Map<string, EnvEntry>();
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    env.set(key, {
      name: key,
      value: String(value),
      owned: true,
      where: lineOf(context, [...base, 'data', key]),
      how: 'ConfigMap data',
    });
  }
  if (env.size > 0) context.findings.push(...judgeManifestEnvironment(context, `ConfigMap "${name}"`, env));
}

/** `app`: what the checkout deploys (app-kind.ts); Ironclad Tasks unless `other`, as for the rest of the file audit. */
export function auditKubernetesFiles(
  dir: string,
  files: string[],
  options: { app?: AppKind } = {},
): { findings: Finding[]; manifests: string[] } {
  const findings: Finding[] = [];
  const manifests: string[] = [];
  const policies: PolicySet = emptyPolicySet();
  const patches = kustomizePatches(dir, files);
  /** Files with workloads that production runs (not a development overlay, a test fixture or a doc's example). */
  const productionManifests: string[] = [];
  /** PORT values of the manifests' environments: the server port a TRUST_PROXY range must be fenced on. */
  const serverPorts = new Set<number>();
  for (const file of files) {
    const lower = file.toLowerCase();
    if (!lower.endsWith('.yml') && !lower.endsWith('.yaml')) continue;
    if (file.split('/').some((part) => SKIPPED_FOLDERS.has(part)) || lower.includes('.github/')) continue;
    let text: string;
    try {
      if (statSync(join(dir, file)).size > LIMITS.fileBytes) continue;
      text = readFileSync(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    if (!mentionsWorkload(text)) continue;
    notePolicyText(policies, text);
    const lines = new LineCounter();
    let documents: Document.Parsed[];
    try {
      documents = parseAllDocuments(text, { lineCounter: lines, logLevel: 'error' }) as Document.Parsed[];
    } catch {
      continue;
    }
    if (!Array.isArray(documents)) continue; // an empty stream
    let workloads = 0;
    for (const doc of documents) {
      if (doc.errors.length > 0) {
        // A Helm template or other non-YAML: not judged; a NetworkPolicy in it still counts as one.
        if (declaresKind(text.slice(doc.range[0], doc.range[2]), ['NetworkPolicy'])) policies.opaque = true;
        continue;
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 1000 });
      } catch {
        continue;
      }
      const top = value as Json | null;
      if (!top || typeof top !== 'object' || typeof top.kind !== 'string' || !('apiVersion' in top)) continue;
      const context: Context = {
        file,
        patch: patches.has(file),
        doc,
        lines,
        findings,
        ironclad: options.app !== 'other',
      };
      const items =
        top.kind === 'List'
          ? list(top.items).map((item, index) => [item, ['items', index]] as const)
          : [[top, []] as const];
      for (const [item, base] of items) {
        // A patch's policy is a fragment of a base's (no podSelector of its own): the base's is judged.
        if (item && typeof item === 'object' && !context.patch) notePolicyObject(policies, item as Json);
        if (item && typeof item === 'object' && (item as Json).kind === 'ConfigMap') {
          auditConfigMap(context, item as Json, [...base]);
          const port = Number(objectAt(item, ['data'])?.PORT);
          if (Number.isInteger(port) && port > 0) serverPorts.add(port);
        }
        if (item && typeof item === 'object' && POD_SPEC_PATHS[String((item as Json).kind)]) {
          workloads += 1;
          auditWorkload(context, item as Json, [...base]);
        }
      }
    }
    if (workloads > 0) manifests.push(file);
    if (workloads > 0 && !developmentReason(file) && !isTestOrDoc(file)) productionManifests.push(file);
  }
  findings.push(...judgePolicies(policies, productionManifests));
  // A TRUST_PROXY range is sound where only the proxy's pods can connect to the server's port at all.
  const ports = serverPorts.size > 0 ? [...serverPorts] : [DEFAULT_SERVER_PORT];
  if (ports.every((port) => fencesPort(policies, port))) {
    findings.forEach((item, index) => {
      if (item.id !== 'config.trust-proxy.range') return;
      // The rule's message starts with whose environment it is (`ConfigMap "api-config" in <file>`).
      const cut = item.message.indexOf(': TRUST_PROXY');
      const owner = cut > 0 ? `${item.message.slice(0, cut)}: ` : '';
      findings[index] = finding(
        'files.k8s.trust-proxy-fenced',
        `${owner}TRUST_PROXY trusts a range, and the NetworkPolicies admit only labelled pods to port ${ports.join(', ')}, so only those pods can connect to be believed`,
        item.location,
      );
    });
  }
  return { findings, manifests };
}

const KUSTOMIZATION = /(^|\/)kustomization\.ya?ml$/i;

/** The files kustomizations name as patches (`patches[].path`, `patchesStrategicMerge`), relative to `dir`. */
function kustomizePatches(dir: string, files: string[]): Set<string> {
  const found = new Set<string>();
  for (const file of files) {
    if (!KUSTOMIZATION.test(file)) continue;
    let value: unknown;
    try {
      if (statSync(join(dir, file)).size > LIMITS.fileBytes) continue;
      value = parse(readFileSync(join(dir, file), 'utf8'));
    } catch {
      continue;
    }
    const folder = dirname(file);
    const named = [
      ...list(objectAt(value, [])?.patches).map((entry) => (entry as { path?: unknown } | null)?.path),
      ...list(objectAt(value, [])?.patchesStrategicMerge),
    ];
    for (const path of named) {
      if (typeof path === 'string' && !path.includes('\n')) found.add(normalize(join(folder, path)));
    }
  }
  return found;
}

/** The server's port when no manifest sets PORT (the schema's default). */
const DEFAULT_SERVER_PORT = 8000;

function judgePolicies(policies: PolicySet, manifests: string[]): Finding[] {
  const first = manifests[0];
  if (first === undefined) return [];
  const also = manifests.length > 1 ? ` (and ${manifests.length - 1} more manifest file(s))` : '';
  if (policies.policies.length === 0 && !policies.opaque) {
    return [
      finding(
        'files.k8s.no-network-policy',
        `${first}${also}: workloads, but no NetworkPolicy in the checkout: every pod in the cluster can reach them`,
        first,
      ),
    ];
  }
  if (policies.opaque || policies.policies.some(isDefaultDenyIngress)) return [];
  return [
    finding(
      'files.k8s.no-default-deny',
      `${first}${also}: NetworkPolicies only allow; none denies ingress by default (podSelector: {}, policyTypes: [Ingress]), so every pod they do not select stays open`,
      first,
    ),
  ];
}
