/**
 * Container escapes in Kubernetes manifests: any YAML or JSON file (multi-document, kustomize bases included; Helm
 * templates that are not YAML, and files over the size bound, are named in `files.k8s.not-audited`) holding a workload (`Pod`, `Deployment`, `StatefulSet`, `DaemonSet`,
 * `ReplicaSet`, `Job`, `CronJob`, `ReplicationController`, also inside a `List`). Reported under the same IDs as the
 * compose checks: `securityContext.privileged`, `hostPID`/`hostIPC`/`hostNetwork`, a `hostPath` volume of the runtime
 * socket, escape-grade `capabilities.add`, and seccomp/AppArmor `Unconfined`. Kubernetes-only: any other `hostPath`
 * volume (`files.k8s.host-path`), a container short of the restricted Pod Security settings
 * (`files.k8s.not-restricted`), a Secret handed over as environment (`files.k8s.secret-env`), and the checkout's
 * NetworkPolicies as a whole (k8s-network-policies.ts). A secret-named env entry (or ConfigMap key) with a literal
 * value is `files.secret.hardcoded`, judged on the parsed object whatever the layout (`- {name: X, value: …}`,
 * `value:` before `name:`); the secret scan's own hit on the same line is then dropped (file-checks.ts). (Kubernetes
 * Secrets are another module's: k8s-secrets.ts.)
 *
 * Manifests are read as the cluster reads them (manifest-kind.ts: YAML 1.1 booleans, merge keys, last duplicate key
 * wins), and recognised by their parsed `apiVersion` and `kind`, not by text. A kustomize patch is a partial object:
 * what it leaves out is the base's to say, but every value it does set is judged.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { type Document, LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import type { AppKind } from '../app-kind.js';
import { LIMITS } from '../file-checks.js';
import { type Finding, finding } from '../findings.js';
import { isSecretName } from '../secret-values.js';
import { isTestOrDoc } from '../secrets-scan.js';
import { developmentReason } from './compose.js';
import type { EnvEntry } from './compose-env.js';
import { judgeEnvironment } from './compose-settings.js';
import { escapeCapabilities, isTrue, runtimeSocket } from './container-escapes.js';
import { isLiteralSecret } from './env-files.js';
import {
  allowsAll,
  deniesByDefaultIn,
  emptyPolicySet,
  fencesPort,
  notePolicyObject,
  notePolicyText,
  type PolicySet,
} from './k8s-network-policies.js';
import {
  declaresKind,
  isKubernetesObject,
  isManifestFileName,
  KUBERNETES_YAML,
  KUSTOMIZATION,
} from './manifest-kind.js';

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
  /** Lines before the text's first: a patch written inside a kustomization starts below its `patch:` key. */
  lineOffset: number;
  findings: Finding[];
  /** The checkout deploys Ironclad Tasks (compose-settings.ts reads its PUBLIC_URL and SMTP_URL then). */
  ironclad: boolean;
  /** A production kustomization lists this file, so a development-like name does not excuse it. */
  production: boolean;
}

/** A file is judged as development only when its name says so and no production kustomization uses it. */
function isDevelopment(context: Context): boolean {
  return !context.production && developmentReason(context.file) !== undefined;
}

function lineOf(context: Context, path: Path): string {
  for (let length = path.length; length >= 1; length -= 1) {
    const node = context.doc.getIn(path.slice(0, length), true) as { range?: [number, number] } | undefined;
    if (node?.range) return `${context.file}:${context.lineOffset + context.lines.linePos(node.range[0]).line}`;
  }
  // The object itself (a List's item is reached by its path above): its first line.
  const root = context.doc.contents as { range?: [number, number] } | null;
  if (root?.range) return `${context.file}:${context.lineOffset + context.lines.linePos(root.range[0]).line}`;
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
  for (const group of CONTAINER_GROUPS) {
    list(spec[group]).forEach((container, index) => {
      const env = new Map<string, EnvEntry>();
      const containerName = String((container as Json | undefined)?.name ?? index);
      list((container as Json | undefined)?.env).forEach((item, position) => {
        const entry = item as { name?: unknown; value?: unknown } | undefined;
        if (typeof entry?.name !== 'string' || entry.value === undefined || entry.value === null) return;
        const where = at(group, index, 'env', position, 'value');
        if (isLiteralManifestSecret(entry.name, String(entry.value))) {
          push('files.secret.hardcoded', `container "${containerName}" sets ${entry.name} to a literal value`, where);
        }
        env.set(entry.name, {
          name: entry.name,
          value: String(entry.value),
          owned: true,
          where: at(group, index, 'env', position),
          how: 'container env',
        });
      });
      if (env.size > 0)
        context.findings.push(...judgeManifestEnvironment(context, `${what} container "${containerName}"`, env));
    });
  }
  // A development overlay may loosen these (a root shell, a writable root): that is what it is for.
  const judgeRestricted = !isDevelopment(context);
  const podProblems = unrestrictedPod(spec);
  if (podProblems.length > 0 && judgeRestricted) {
    push('files.k8s.not-restricted', `pod is not restricted: ${podProblems.join(', ')}`, at('securityContext'));
  }
  for (const group of CONTAINER_GROUPS) {
    list(spec[group]).forEach((container, index) => {
      const containerName = `container "${String((container as Json | undefined)?.name ?? index)}"`;
      const where = at(group, index);
      const missing = unrestricted(podSecurity ?? {}, (container as Json | undefined) ?? {}, context.patch);
      if (missing.length > 0 && judgeRestricted) {
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
  for (const group of CONTAINER_GROUPS) {
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

/** Kinds of container a pod spec holds: the Pod Security Standards judge all three alike. */
const CONTAINER_GROUPS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** The only capability the restricted Pod Security Standard lets a container add. */
const RESTRICTED_ADDABLE = new Set(['NET_BIND_SERVICE']);

/** SELinux types the Pod Security Standards allow (baseline, so restricted too); an empty type is the runtime's. */
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** The "safe" sysctls of the Pod Security Standards (baseline, Kubernetes 1.32): namespaced, and unable to touch the node. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

function capabilityName(item: unknown): string {
  const name = String(item).trim().toUpperCase();
  return name.startsWith('CAP_') ? name.slice(4) : name;
}

/** What an `seLinuxOptions` sets that the Pod Security Standards refuse. */
function seLinuxProblems(options: Json | undefined, where: string): string[] {
  if (!options) return [];
  const problems: string[] = [];
  const type = options.type;
  if (type !== undefined && type !== null && !SELINUX_TYPES.has(String(type))) {
    problems.push(`${where}seLinuxOptions.type ${String(type)}`);
  }
  for (const key of ['user', 'role'] as const) {
    const value = options[key];
    if (value !== undefined && value !== null && String(value) !== '')
      problems.push(`${where}seLinuxOptions.${key} set`);
  }
  return problems;
}

/** What a pod's own spec sets that the restricted Pod Security Standard refuses (each container is judged apart). */
function unrestrictedPod(spec: Json): string[] {
  const security = objectAt(spec, ['securityContext']) ?? {};
  const problems = seLinuxProblems(objectAt(security, ['seLinuxOptions']), '');
  for (const item of list(security.sysctls)) {
    const name = String((item as { name?: unknown } | null)?.name ?? '');
    if (!SAFE_SYSCTLS.has(name)) problems.push(`sysctl ${name} (not in the safe set)`);
  }
  return problems;
}

/**
 * What keeps a container short of the restricted Pod Security Standard (plus a read-only root filesystem, which the
 * standard leaves out and compose's `read_only` asks), as the fix would write it. Every value the manifest sets that
 * the standard refuses counts; for a whole object so does each setting it leaves out, while a kustomize `patch` is a
 * partial object whose omissions are its base's to say. Unconfined seccomp is files.container.capabilities' (an
 * error), and escape-grade capabilities are reported there too, not repeated here.
 */
function unrestricted(pod: Json, containerSpec: Json, patch: boolean): string[] {
  const container = objectAt(containerSpec, ['securityContext']) ?? {};
  const problems: string[] = [];
  const runAsNonRoot = container.runAsNonRoot ?? pod.runAsNonRoot;
  const runAsUser = container.runAsUser ?? pod.runAsUser;
  if (runAsUser === 0 || runAsUser === '0') problems.push('runs as uid 0');
  else if (isFalse(runAsNonRoot)) problems.push('sets runAsNonRoot: false');
  else if (!patch && !isTrue(runAsNonRoot)) problems.push('no runAsNonRoot: true');
  if (isTrue(container.allowPrivilegeEscalation)) problems.push('sets allowPrivilegeEscalation: true');
  else if (!patch && !isFalse(container.allowPrivilegeEscalation)) problems.push('no allowPrivilegeEscalation: false');
  if (isFalse(container.readOnlyRootFilesystem)) problems.push('sets readOnlyRootFilesystem: false');
  else if (!patch && !isTrue(container.readOnlyRootFilesystem)) problems.push('no readOnlyRootFilesystem: true');
  const capabilities = objectAt(container, ['capabilities']);
  const drop = list(capabilities?.drop).map(capabilityName);
  // A patch that writes `drop:` replaces the base's list (a list of strings merges by replacement).
  const setsDrop = capabilities !== undefined && 'drop' in capabilities;
  if (!drop.includes('ALL') && (!patch || setsDrop)) problems.push('no capabilities.drop: [ALL]');
  const added = list(capabilities?.add)
    .map(capabilityName)
    .filter((name) => !RESTRICTED_ADDABLE.has(name));
  if (added.length > 0) problems.push(`adds capabilities ${[...new Set(added)].join(', ')}`);
  const seccomp = objectAt(container, ['seccompProfile']) ?? objectAt(pod, ['seccompProfile']);
  const type = String(seccomp?.type ?? '').toLowerCase();
  if (type !== 'runtimedefault' && type !== 'localhost' && type !== 'unconfined' && (!patch || seccomp)) {
    problems.push('no seccompProfile: RuntimeDefault');
  }
  const procMount = container.procMount;
  if (procMount !== undefined && procMount !== null && String(procMount) !== 'Default') {
    problems.push(`procMount: ${String(procMount)}`);
  }
  problems.push(...seLinuxProblems(objectAt(container, ['seLinuxOptions']), ''));
  const hostPorts = list(containerSpec.ports)
    .map((port) => (port as { hostPort?: unknown } | null)?.hostPort)
    .filter((port) => port !== undefined && port !== null && Number(port) !== 0);
  if (hostPorts.length > 0) problems.push(`hostPort ${hostPorts.map(String).join(', ')}`);
  return problems;
}

/**
 * A secret-named variable (SECRET_KEY, *_PASSWORD, *_TOKEN, a DATABASE_URL with a password, ...) given its value in
 * the manifest, by the same rule as an env file's line (env-files.ts). `$(OTHER)` is Kubernetes's own reference to
 * another variable of the container (one from a Secret): it holds nothing, so it is taken out first.
 */
function isLiteralManifestSecret(name: string, value: string): boolean {
  if (!isSecretName(name)) return false;
  const written = value.replace(/\$\([A-Za-z_][A-Za-z0-9_.-]*\)/g, '');
  return written.trim() !== '' && isLiteralSecret(name, written);
}

/**
 * A container's env and a ConfigMap's data are the application's environment, as a compose service's
 * `environment:` is: judged by the same settings rules, with the same Django/Node names (compose-settings.ts).
 */
function judgeManifestEnvironment(context: Context, what: string, env: Map<string, EnvEntry>): Finding[] {
  // A development overlay (overlays/dev, *.local.yaml) may turn DEBUG on: that is what it is for.
  if (isDevelopment(context)) return [];
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
    if (isLiteralManifestSecret(key, String(value))) {
      context.findings.push(
        finding(
          'files.secret.hardcoded',
          `${context.file}: ConfigMap "${name}" sets ${key} to a literal value (a ConfigMap is not a Secret)`,
          lineOf(context, [...base, 'data', key]),
        ),
      );
    }
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

/** A JSON pointer's segments (RFC 6901: `~1` is `/`, `~0` is `~`). */
function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The workload kind a pointer into a pod spec implies: where POD_SPEC_PATHS puts the spec. */
function kindOfPointer(segments: string[]): string | undefined {
  if (segments[0] !== 'spec') return undefined;
  if (segments[1] === 'jobTemplate') return 'CronJob';
  if (segments[1] === 'template') return 'Deployment';
  return 'Pod';
}

/**
 * The partial objects a JSON 6902 patch writes: each `add`/`replace` of a value placed at its path, in one object per
 * workload kind its paths imply (the patch's `target` may name any kind with the same spec layout). A `remove` is not
 * judged: what it takes away is the base's to say. Hand-written: the JSON-patch libraries apply operations to a
 * document, and here there is none, only the values the operations write.
 */
function objectsOfOperations(operations: unknown[]): Json[] {
  const byKind = new Map<string, Json>();
  for (const item of operations) {
    const operation = item as { op?: unknown; path?: unknown; value?: unknown } | null;
    if (!operation || (operation.op !== 'add' && operation.op !== 'replace') || typeof operation.path !== 'string') {
      continue;
    }
    const segments = pointerSegments(operation.path);
    const kind = kindOfPointer(segments);
    if (!kind || segments.length < 2) continue;
    const root = byKind.get(kind) ?? { apiVersion: 'v1', kind, metadata: { name: '(JSON patch)' } };
    byKind.set(kind, root);
    let current: Json | unknown[] = root;
    segments.forEach((segment, index) => {
      if (!current || typeof current !== 'object') return; // under a value an earlier operation wrote
      const last = index === segments.length - 1;
      const nextIsIndex = !last && /^(\d+|-)$/.test(segments[index + 1] ?? '');
      const fresh = last ? operation.value : nextIsIndex ? [] : {};
      if (Array.isArray(current)) {
        // `-` appends; an index is where the value lands (holes are skipped when the list is read).
        const position = segment === '-' ? current.length : Number(segment);
        if (!Number.isInteger(position) || position < 0 || position > 1000) return;
        current[position] = last ? fresh : (current[position] ?? fresh);
        current = current[position] as Json | unknown[];
      } else {
        current[segment] = last ? fresh : (current[segment] ?? fresh);
        current = current[segment] as Json | unknown[];
      }
    });
  }
  return [...byKind.values()];
}

/** A manifest the audit could not judge, and why: never silently clean. */
interface NotAudited {
  file: string;
  why: string;
}

/** What a checkout's kustomizations say about the files around them. */
interface Kustomizations {
  /** Files named as patches (`patches[].path`, `patchesStrategicMerge`), relative to the checkout. */
  patches: Set<string>;
  /** Patches written inside a kustomization (`patches[].patch`): the text, and the line it starts after. */
  inline: { file: string; text: string; line: number }[];
  /** Folder → the `namespace:` its kustomization sets on every object under it. */
  namespaces: Map<string, string>;
  /**
   * Files (patches and resource files) that a kustomization which is not itself development-named lists: production
   * runs them whatever they are called (`overlays/production/debug-shell.yaml` is not a development overlay).
   */
  usedByProduction: Set<string>;
}

/** Reading the whole of each file: kustomize's own files are small, and parsed with the same options as manifests. */
function readKustomizations(dir: string, files: string[]): Kustomizations {
  const found: Kustomizations = { patches: new Set(), inline: [], namespaces: new Map(), usedByProduction: new Set() };
  for (const file of files) {
    if (!KUSTOMIZATION.test(file)) continue;
    let doc: Document.Parsed;
    const lines = new LineCounter();
    try {
      if (statSync(join(dir, file)).size > LIMITS.fileBytes) continue;
      doc = parseDocument(readFileSync(join(dir, file), 'utf8'), { ...KUBERNETES_YAML, lineCounter: lines });
    } catch {
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch {
      continue;
    }
    const folder = dirname(file);
    const top = objectAt(value, []);
    if (typeof top?.namespace === 'string' && top.namespace !== '') found.namespaces.set(folder, top.namespace);
    const named = [
      ...list(top?.patches).map((entry) => (entry as { path?: unknown } | null)?.path),
      ...list(top?.patchesJson6902).map((entry) => (entry as { path?: unknown } | null)?.path),
      ...list(top?.patchesStrategicMerge),
    ];
    const production = !developmentReason(file) && !isTestOrDoc(file);
    for (const path of named) {
      // A patchesStrategicMerge entry may be the patch itself rather than a path to it.
      if (typeof path !== 'string') continue;
      if (!path.includes('\n')) {
        found.patches.add(normalize(join(folder, path)));
        if (production) found.usedByProduction.add(normalize(join(folder, path)));
      } else found.inline.push({ file, text: path, line: 0 });
    }
    if (production)
      for (const path of list(top?.resources))
        if (typeof path === 'string' && /\.(ya?ml|json)$/i.test(path))
          found.usedByProduction.add(normalize(join(folder, path)));
    for (const field of ['patches', 'patchesJson6902'] as const) {
      list(top?.[field]).forEach((entry, index) => {
        const text = (entry as { patch?: unknown } | null)?.patch;
        if (typeof text !== 'string') return;
        const node = doc.getIn([field, index, 'patch'], true) as { range?: [number, number] } | undefined;
        found.inline.push({ file, text, line: node?.range ? lines.linePos(node.range[0]).line : 0 });
      });
    }
  }
  return found;
}

/** The namespace objects of `file` land in: the nearest kustomization's `namespace:`, else their own. */
function namespaceOf(kustomizations: Kustomizations, file: string, object: Json): string | undefined {
  for (let folder = dirname(file); ; folder = dirname(folder)) {
    const set = kustomizations.namespaces.get(folder);
    if (set !== undefined) return set;
    if (folder === '.' || folder === '/' || folder === '') break;
  }
  const own = objectAt(object, ['metadata'])?.namespace;
  return typeof own === 'string' && own !== '' ? own : undefined;
}

/** Bytes read of a file over the size bound, to say whether it was a manifest at all. */
const HEAD_BYTES = 64 * 1024;

function readHead(full: string): string {
  const buffer = Buffer.alloc(HEAD_BYTES);
  const fd = openSync(full, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, HEAD_BYTES, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a text may hold a Kubernetes object. A cheap look before parsing, and a sound one: the two keys are in the
 * text as written unless a quoted key spells them with escapes (`"\u006bind"`), which needs a backslash.
 */
function mayHoldManifest(text: string): boolean {
  if (text.includes('\\')) return true;
  return text.includes('apiVersion') && text.includes('kind');
}

/**
 * The text's documents, as the cluster would read them. A JSON file goes through JSON.parse first: most JSON in a
 * checkout (package.json, lock files) is no manifest, and the native parser tells so at a fraction of the cost.
 */
function manifestDocuments(file: string, text: string, lines: LineCounter): Document.Parsed[] | undefined {
  if (file.toLowerCase().endsWith('.json')) {
    try {
      const value = JSON.parse(text) as unknown;
      if (!isKubernetesObject(value)) return [];
    } catch {
      // Not JSON after all: kubectl would refuse it too, unless it is YAML (then judged as such).
    }
  }
  try {
    const documents = parseAllDocuments(text, { ...KUBERNETES_YAML, lineCounter: lines, logLevel: 'error' });
    return Array.isArray(documents) ? (documents as Document.Parsed[]) : []; // not an array: an empty stream
  } catch {
    return undefined;
  }
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
  const kustomizations = readKustomizations(dir, files);
  /** Files with workloads that production runs (not a development overlay, a test fixture or a doc's example). */
  const productionManifests: string[] = [];
  /** The namespaces production workloads land in (undefined: wherever they are applied). */
  const workloadNamespaces = new Set<string | undefined>();
  /** PORT values of the manifests' environments: the server port a TRUST_PROXY range must be fenced on. */
  const serverPorts = new Set<number>();
  const notAudited: NotAudited[] = [];
  const ironclad = options.app !== 'other';

  /** Judges one text's documents; returns how many workloads it held. */
  const auditText = (file: string, text: string, patch: boolean, lineOffset: number): number => {
    const lines = new LineCounter();
    const documents = manifestDocuments(file, text, lines);
    if (documents === undefined) {
      notAudited.push({ file, why: 'not YAML' });
      return 0;
    }
    const usedByProduction = kustomizations.usedByProduction.has(file);
    const production = usedByProduction || (!developmentReason(file) && !isTestOrDoc(file));
    let workloads = 0;
    for (const doc of documents) {
      const docText = text.slice(doc.range[0], doc.range[2]);
      if (doc.errors.length > 0) {
        // A Helm template or other non-YAML: not judged, but named; a NetworkPolicy in it still counts as one.
        if (declaresKind(docText, ['NetworkPolicy'])) policies.opaque = true;
        if (mayHoldManifest(docText)) notAudited.push({ file, why: 'not YAML (a Helm template?)' });
        continue;
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 1000 });
      } catch {
        if (mayHoldManifest(docText)) notAudited.push({ file, why: 'its aliases expand too far' });
        continue;
      }
      const context: Context = {
        file,
        patch,
        doc,
        lines,
        lineOffset,
        findings,
        ironclad,
        production: usedByProduction,
      };
      // A JSON 6902 patch (a list of `op`s) is judged as the partial object its `add`s and `replace`s write.
      if (patch && Array.isArray(value)) {
        for (const object of objectsOfOperations(value)) auditWorkload(context, object, []);
        continue;
      }
      if (!isKubernetesObject(value)) continue;
      const top = value;
      const items =
        top.kind === 'List'
          ? list(top.items).map((item, index) => [item, ['items', index]] as const)
          : [[top, []] as const];
      for (const [item, base] of items) {
        if (!isKubernetesObject(item)) continue;
        const namespace = namespaceOf(kustomizations, file, item);
        // A patch's policy is a fragment of a base's (no podSelector of its own): the base's is judged.
        if (!patch) {
          notePolicyObject(policies, item, {
            location: lineOf(context, [...base]),
            namespace,
            production,
          });
        }
        if (item.kind === 'ConfigMap') {
          auditConfigMap(context, item, [...base]);
          const port = Number(objectAt(item, ['data'])?.PORT);
          if (Number.isInteger(port) && port > 0) serverPorts.add(port);
        }
        if (POD_SPEC_PATHS[item.kind]) {
          workloads += 1;
          auditWorkload(context, item, [...base]);
          if (production && !patch) workloadNamespaces.add(namespace);
        }
      }
    }
    return workloads;
  };

  for (const file of files) {
    if (!isManifestFileName(file)) continue;
    if (file.split('/').some((part) => SKIPPED_FOLDERS.has(part)) || file.toLowerCase().includes('.github/')) continue;
    const full = join(dir, file);
    let text: string;
    try {
      if (statSync(full).size > LIMITS.fileBytes) {
        if (mayHoldManifest(readHead(full))) notAudited.push({ file, why: `over ${LIMITS.fileBytes} bytes` });
        continue;
      }
      text = readFileSync(full, 'utf8');
    } catch {
      continue;
    }
    // A JSON 6902 patch names no apiVersion or kind (its kustomization's `target:` does).
    if (!kustomizations.patches.has(file) && !mayHoldManifest(text)) continue;
    notePolicyText(policies, text);
    const workloads = auditText(file, text, kustomizations.patches.has(file), 0);
    if (workloads > 0) manifests.push(file);
    if (
      workloads > 0 &&
      (kustomizations.usedByProduction.has(file) || (!developmentReason(file) && !isTestOrDoc(file)))
    )
      productionManifests.push(file);
  }
  for (const inline of kustomizations.inline) auditText(inline.file, inline.text, true, inline.line);

  findings.push(...judgePolicies(policies, productionManifests, workloadNamespaces));
  const unread = notAudited.filter((item) => !isTestOrDoc(item.file));
  if (unread.length > 0) {
    const named = [...new Map(unread.map((item) => [item.file, item])).values()];
    const shown = named.slice(0, 5).map((item) => `${item.file} (${item.why})`);
    const more = named.length > shown.length ? ` and ${named.length - shown.length} more` : '';
    findings.push(
      finding(
        'files.k8s.not-audited',
        `${named.length} Kubernetes manifest file(s) could not be audited, so nothing in them is judged: ${shown.join(', ')}${more}`,
        named[0]?.file,
      ),
    );
  }
  // A TRUST_PROXY range is sound where only the proxy's pods can connect to the server's port at all, in every
  // namespace the workloads run in.
  const ports = serverPorts.size > 0 ? [...serverPorts] : [DEFAULT_SERVER_PORT];
  const namespaces = workloadNamespaces.size > 0 ? [...workloadNamespaces] : [undefined];
  if (ports.every((port) => namespaces.every((namespace) => fencesPort(policies, port, namespace)))) {
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

/** The server's port when no manifest sets PORT (the schema's default). */
const DEFAULT_SERVER_PORT = 8000;

function judgePolicies(policies: PolicySet, manifests: string[], namespaces: Set<string | undefined>): Finding[] {
  const found: Finding[] = [];
  for (const policy of policies.policies) {
    const source = policies.sources.get(policy);
    if (!source?.production) continue;
    const open = allowsAll(policy);
    if (open.length === 0) continue;
    const name = String(objectAt(policy, ['metadata'])?.name ?? '?');
    found.push(
      finding(
        'files.k8s.network-policy-allows-all',
        `NetworkPolicy "${name}" selects every pod (podSelector: {}) and allows all ${open.join(' and ')} (a rule with no ${open.map((way) => (way === 'ingress' ? 'from' : 'to')).join('/')} and no ports), undoing any default deny beside it`,
        source.location,
      ),
    );
  }
  const first = manifests[0];
  if (first === undefined) return found;
  const also = manifests.length > 1 ? ` (and ${manifests.length - 1} more manifest file(s))` : '';
  if (policies.policies.length === 0 && !policies.opaque) {
    found.push(
      finding(
        'files.k8s.no-network-policy',
        `${first}${also}: workloads, but no NetworkPolicy in the checkout: every pod in the cluster can reach them`,
        first,
      ),
    );
    return found;
  }
  if (policies.opaque) return found;
  // Workloads seen only through patches have no namespace of their own here: any default deny then counts.
  const judged = namespaces.size > 0 ? [...namespaces] : [undefined];
  const open = judged.filter((namespace) => !deniesByDefaultIn(policies, namespace));
  if (open.length === 0) return found;
  const where = open.some((namespace) => namespace !== undefined)
    ? ` in namespace ${open.filter((namespace) => namespace !== undefined).join(', ')}`
    : '';
  found.push(
    finding(
      'files.k8s.no-default-deny',
      `${first}${also}: NetworkPolicies only allow${where}; none there denies ingress by default (podSelector: {}, policyTypes: [Ingress]), so every pod they do not select stays open`,
      first,
    ),
  );
  return found;
}
