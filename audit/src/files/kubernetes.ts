/**
 * Container escapes in Kubernetes manifests: any YAML file (multi-document, kustomize bases included; Helm
 * templates that are not YAML are skipped) holding a workload (`Pod`, `Deployment`, `StatefulSet`, `DaemonSet`,
 * `ReplicaSet`, `Job`, `CronJob`, `ReplicationController`, also inside a `List`). Reported under the same IDs as the
 * compose checks: `securityContext.privileged`, `hostPID`/`hostIPC`/`hostNetwork`, a `hostPath` volume of the runtime
 * socket, escape-grade `capabilities.add`, and seccomp/AppArmor `Unconfined`. (Kubernetes Secrets are another
 * module's: k8s-secrets.ts.)
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import type { AppKind } from '../app-kind.js';
import { LIMITS } from '../file-checks.js';
import { type Finding, finding } from '../findings.js';
import { developmentReason } from './compose.js';
import type { EnvEntry } from './compose-env.js';
import { judgeEnvironment } from './compose-settings.js';
import { escapeCapabilities, isTrue, runtimeSocket } from './container-escapes.js';

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
    const path = (volume as { hostPath?: { path?: unknown } } | undefined)?.hostPath?.path;
    const socket = typeof path === 'string' ? runtimeSocket(path) : undefined;
    if (socket) push('files.container.docker-socket', `mounts hostPath ${socket}`, at('volumes', index));
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

/** A cheap test before parsing: a workload kind (or a ConfigMap, whose data is an environment) is named. */
function mentionsWorkload(text: string): boolean {
  if (!text.includes('kind:')) return false;
  return text.includes('ConfigMap') || Object.keys(POD_SPEC_PATHS).some((kind) => text.includes(kind));
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
      if (doc.errors.length > 0) continue; // a Helm template or other non-YAML: not judged
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 1000 });
      } catch {
        continue;
      }
      const top = value as Json | null;
      if (!top || typeof top !== 'object' || typeof top.kind !== 'string' || !('apiVersion' in top)) continue;
      const context: Context = { file, doc, lines, findings, ironclad: options.app !== 'other' };
      const items =
        top.kind === 'List'
          ? list(top.items).map((item, index) => [item, ['items', index]] as const)
          : [[top, []] as const];
      for (const [item, base] of items) {
        if (item && typeof item === 'object' && (item as Json).kind === 'ConfigMap') {
          auditConfigMap(context, item as Json, [...base]);
        }
        if (item && typeof item === 'object' && POD_SPEC_PATHS[String((item as Json).kind)]) {
          workloads += 1;
          auditWorkload(context, item as Json, [...base]);
        }
      }
    }
    if (workloads > 0) manifests.push(file);
  }
  return { findings, manifests };
}
