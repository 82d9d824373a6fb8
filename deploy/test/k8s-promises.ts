/**
 * The promises deploy/k8s makes, as checks on the objects `kubectl kustomize` renders (deploy/test/kubernetes.test.ts
 * runs them on the base and on the production overlay). Each check returns the promises it found broken, empty when
 * all are kept, so the self-check can run it on a deliberately broken copy and see it fail.
 *
 * Hand-written: the general policy engines (kyverno, conftest, kube-score) are Go binaries or need a cluster, and
 * none knows this application's settings schema, its image users or its drain timing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectConfig } from '@ironclad/config/load';
import { type SettingName, settingNames, settings } from '@ironclad/config/schema';
import { STRONG_KEY } from '@ironclad/testkit/accounts';
import { TEMPLATE_VARIABLES } from '@ironclad/testkit/nginx-render';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/** One rendered object, before it is known to be valid. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export type Variant = 'base' | 'production';

export interface Rendered {
  variant: Variant;
  objects: K8sObject[];
}

/** The image users (server/Dockerfile: USER node; client/Dockerfile: USER nginx, uid 101 in nginx:alpine). */
const IMAGE_USERS: [string, number][] = [
  ['ironclad-tasks-api', 1000],
  ['ironclad-tasks-web', 101],
];
const OWN = 'ironclad-tasks';
const NAMESPACE = 'ironclad';
/** Names that look like a secret's, also for names the schema does not know. */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|CREDENTIAL|PRIVATE|DATABASE_URL|SMTP_URL/i;

function all<T>(rendered: Rendered, kind: string): (T & K8sObject)[] {
  return rendered.objects.filter((object) => object.kind === kind) as (T & K8sObject)[];
}

function named<T>(rendered: Rendered, kind: string, name: string): (T & K8sObject) | undefined {
  return all<T>(rendered, kind).find((object) => object.metadata?.name === name);
}

interface Workload {
  what: string;
  component: string;
  spec: IPodSpec;
}

/** Every pod spec: the Deployments' and the Job's templates. */
function workloads(rendered: Rendered): Workload[] {
  const found: Workload[] = [];
  for (const object of [...all<IDeployment>(rendered, 'Deployment'), ...all<IJob>(rendered, 'Job')]) {
    const template = object.spec?.template;
    if (!template?.spec) continue;
    found.push({
      what: `${object.kind}/${object.metadata?.name}`,
      component: template.metadata?.labels?.['app.kubernetes.io/component'] ?? '?',
      spec: template.spec,
    });
  }
  return found;
}

function containersOf(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

function workload(rendered: Rendered, component: string): Workload | undefined {
  return workloads(rendered).find((candidate) => candidate.component === component);
}

/** The environment a container gets: its ConfigMaps (envFrom) and then its own env values. */
function environmentOf(rendered: Rendered, container: IContainer): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name) continue;
    for (const [key, value] of Object.entries(named<IConfigMap>(rendered, 'ConfigMap', name)?.data ?? {})) {
      env.set(`${source.prefix ?? ''}${key}`, value);
    }
  }
  for (const entry of container.env ?? []) env.set(entry.name, entry.value);
  return env;
}

/** The API's settings as the api container gets them. */
function apiEnvironment(rendered: Rendered): Map<string, string | undefined> {
  const api = workload(rendered, 'api')?.spec.containers[0];
  return api ? environmentOf(rendered, api) : new Map();
}

function durationSeconds(name: 'SHUTDOWN_DRAIN' | 'SHUTDOWN_TIMEOUT', raw: string | undefined): number {
  const setting = settings[name];
  return setting.parse(raw ?? setting.default) / 1000;
}

/** A probe's or Service's port (a number or a container port's name) as a number. */
function portNumber(container: IContainer | undefined, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container?.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

function ownPodLabels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': OWN, 'app.kubernetes.io/component': component };
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const entries = Object.entries(a ?? {});
  return entries.length === Object.keys(b).length && entries.every(([key, value]) => b[key] === value);
}

// --- The promises ---

/** Restricted Pod Security, container by container, with the image's own user; no host access of any kind. */
export function restricted(rendered: Rendered): string[] {
  const problems: string[] = [];
  const namespace = named<INamespace>(rendered, 'Namespace', NAMESPACE);
  if (namespace?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') {
    problems.push(`Namespace ${NAMESPACE} does not enforce the restricted Pod Security level`);
  }
  for (const object of rendered.objects) {
    if (object.kind !== 'Namespace' && object.metadata?.namespace !== NAMESPACE) {
      problems.push(`${object.kind}/${object.metadata?.name} is not in namespace ${NAMESPACE}`);
    }
  }
  for (const { what, spec } of workloads(rendered)) {
    if (spec.automountServiceAccountToken !== false) problems.push(`${what} mounts a service account token`);
    const account = named<IServiceAccount>(rendered, 'ServiceAccount', spec.serviceAccountName ?? 'default');
    if (account?.automountServiceAccountToken !== false) {
      problems.push(`${what} runs as service account ${spec.serviceAccountName ?? 'default'}, which is not ours`);
    }
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
      if (spec[key]) problems.push(`${what} sets ${key}`);
    }
    for (const volume of spec.volumes ?? []) {
      if (!volume.secret && !volume.emptyDir && !volume.configMap) {
        problems.push(`${what} volume ${volume.name} is neither a Secret, a ConfigMap nor an emptyDir`);
      }
    }
    const pod = spec.securityContext ?? {};
    for (const container of containersOf(spec)) {
      const at = `${what} container ${container.name}`;
      const own = container.securityContext ?? {};
      const expected = IMAGE_USERS.find(([image]) => container.image?.includes(image))?.[1];
      const user = own.runAsUser ?? pod.runAsUser;
      if (expected === undefined) problems.push(`${at} runs an image whose user is not known: ${container.image}`);
      else if (user !== expected) problems.push(`${at} runs as uid ${user}, not the image's ${expected}`);
      if (user === 0) problems.push(`${at} runs as root`);
      if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${at} lacks runAsNonRoot`);
      if (own.readOnlyRootFilesystem !== true) problems.push(`${at} has a writable root filesystem`);
      if (own.allowPrivilegeEscalation !== false) problems.push(`${at} may escalate privileges`);
      if (own.privileged) problems.push(`${at} is privileged`);
      if (!own.capabilities?.drop?.includes('ALL')) problems.push(`${at} does not drop ALL capabilities`);
      if ((own.capabilities?.add ?? []).length > 0) problems.push(`${at} adds capabilities`);
      if ((own.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault') {
        problems.push(`${at} does not run under the RuntimeDefault seccomp profile`);
      }
    }
  }
  return problems;
}

/** No secret in any environment: no value for a secret setting, no secretKeyRef, no Secret as envFrom. */
export function noSecretInEnvironment(rendered: Rendered): string[] {
  const problems: string[] = [];
  // The schema says which of its settings are secret; a name it does not know is judged by how it looks.
  const isSecret = (name: string) => {
    const setting = (settings as Record<string, { secret?: boolean }>)[name];
    return setting ? setting.secret === true : SECRET_NAME.test(name) && !name.endsWith('_FILE');
  };
  for (const { what, spec } of workloads(rendered)) {
    for (const container of containersOf(spec)) {
      const at = `${what} container ${container.name}`;
      for (const entry of container.env ?? []) {
        if (entry.valueFrom?.secretKeyRef)
          problems.push(`${at} reads ${entry.name} from a Secret into its environment`);
        if (entry.value !== undefined && isSecret(entry.name)) problems.push(`${at} sets ${entry.name} to a value`);
      }
      for (const source of container.envFrom ?? []) {
        if (source.secretRef) problems.push(`${at} takes a whole Secret as environment`);
        const map = source.configMapRef?.name;
        for (const key of Object.keys(named<IConfigMap>(rendered, 'ConfigMap', map ?? '')?.data ?? {})) {
          if (isSecret(key)) problems.push(`${at} gets ${key} from ConfigMap ${map}`);
        }
      }
    }
  }
  return problems;
}

/** Where a path lands among a container's mounts: the Secret volume it is inside, and the key it names. */
function secretFileProblem(spec: IPodSpec, container: IContainer, path: string): string | undefined {
  const mount = container.volumeMounts?.find((candidate) => path.startsWith(`${candidate.mountPath}/`));
  const volume = spec.volumes?.find((candidate) => candidate.name === mount?.name);
  if (!mount || !volume?.secret) return `${path} is not inside a mounted Secret`;
  if (mount.readOnly !== true) return `${path} is inside a writable mount`;
  const key = path.slice(mount.mountPath.length + 1);
  const items = volume.secret.items;
  if (items && !items.some((item) => item.path === key)) return `${path}: the mount leaves ${key} out`;
  return undefined;
}

/** Every *_FILE setting is a secret setting's, and points inside a read-only mounted Secret volume. */
export function secretFilesMounted(rendered: Rendered): string[] {
  const problems: string[] = [];
  for (const { what, component, spec } of workloads(rendered)) {
    for (const container of containersOf(spec)) {
      const env = environmentOf(rendered, container);
      const at = `${what} container ${container.name}`;
      for (const [name, value] of env) {
        if (!name.endsWith('_FILE') || name === 'SMTP_CA_FILE') continue;
        const setting = (settings as Record<string, { file?: boolean }>)[name.slice(0, -5)];
        if (setting?.file !== true) problems.push(`${at}: ${name} is not a _FILE setting of the server`);
        const problem = value === undefined ? `${name} has no value` : secretFileProblem(spec, container, value);
        if (problem) problems.push(`${at}: ${problem}`);
      }
      if (component === 'api' || component === 'migrate') {
        if (!env.has('SECRET_KEY_FILE')) problems.push(`${at} gets no SECRET_KEY_FILE`);
        if (!env.has('POSTGRES_PASSWORD_FILE') && !env.has('DATABASE_URL_FILE')) {
          problems.push(`${at} gets no POSTGRES_PASSWORD_FILE or DATABASE_URL_FILE`);
        }
      }
      if (component === 'api' && !env.has('SMTP_URL_FILE')) problems.push(`${at} gets no SMTP_URL_FILE`);
      if (component === 'web') {
        for (const name of ['TLS_CERT', 'TLS_KEY']) {
          const value = env.get(name);
          const problem = value === undefined ? `${name} is not set` : secretFileProblem(spec, container, value);
          if (problem) problems.push(`${at}: ${problem}`);
        }
      }
    }
  }
  return problems;
}

/** Every variable a container gets is one its program reads: a typo fails here instead of being ignored. */
export function settingNamesKnown(rendered: Rendered): string[] {
  const problems: string[] = [];
  const serverNames = new Set<string>(settingNames);
  for (const name of settingNames) {
    if ((settings[name] as { file?: boolean }).file) serverNames.add(`${name}_FILE`);
  }
  const nginxNames = new Set<string>(TEMPLATE_VARIABLES);
  for (const { what, component, spec } of workloads(rendered)) {
    const known = component === 'web' ? nginxNames : serverNames;
    for (const container of containersOf(spec)) {
      for (const name of environmentOf(rendered, container).keys()) {
        if (!known.has(name)) problems.push(`${what} container ${container.name}: ${name} is read by nobody`);
      }
    }
  }
  return problems;
}

/** A policy's pod selector or peer, in a few words: `pod(api)` for one of ours. */
function selectorText(labels: Record<string, string> | undefined, expressions: unknown[] | undefined): string {
  if (expressions && expressions.length > 0) return `expressions(${JSON.stringify(expressions)})`;
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '*';
  const component = labels?.['app.kubernetes.io/component'];
  if (component && sameLabels(labels, ownPodLabels(component))) return component;
  return entries
    .map(([key, value]) => `${key}=${value}`)
    .sort()
    .join(',');
}

function peerText(peer: INetworkPolicyPeer): string {
  const parts: string[] = [];
  if (peer.ipBlock)
    parts.push(`cidr(${peer.ipBlock.cidr}${peer.ipBlock.except ? ` except ${peer.ipBlock.except}` : ''})`);
  if (peer.namespaceSelector) {
    parts.push(`ns(${selectorText(peer.namespaceSelector.matchLabels, peer.namespaceSelector.matchExpressions)})`);
  }
  if (peer.podSelector)
    parts.push(`pod(${selectorText(peer.podSelector.matchLabels, peer.podSelector.matchExpressions)})`);
  return parts.join('+');
}

function portsText(ports: INetworkPolicyPort[] | undefined): string {
  if (!ports || ports.length === 0) return 'any port';
  return ports
    .map((port) => `${port.protocol ?? 'TCP'}/${port.port ?? '*'}${port.endPort ? `-${port.endPort}` : ''}`)
    .join(',');
}

/** Every NetworkPolicy rule as one line, so the whole set can be compared with what the docs state. */
export function policyLines(rendered: Rendered): string[] {
  const lines: string[] = [];
  for (const policy of all<INetworkPolicy>(rendered, 'NetworkPolicy')) {
    const name = policy.metadata?.name;
    const spec = policy.spec;
    const selects = selectorText(spec?.podSelector.matchLabels, spec?.podSelector.matchExpressions);
    const types = spec?.policyTypes ?? ['Ingress'];
    if (types.includes('Ingress')) {
      if (!spec?.ingress || spec.ingress.length === 0) lines.push(`${name}: ${selects} ingress denied`);
      for (const rule of spec?.ingress ?? []) {
        const peers = rule.from && rule.from.length > 0 ? rule.from.map(peerText).join(' | ') : 'anywhere';
        lines.push(`${name}: ${selects} <- ${peers} on ${portsText(rule.ports)}`);
      }
    }
    if (types.includes('Egress')) {
      if (!spec?.egress || spec.egress.length === 0) lines.push(`${name}: ${selects} egress denied`);
      for (const rule of spec?.egress ?? []) {
        const peers = rule.to && rule.to.length > 0 ? rule.to.map(peerText).join(' | ') : 'anywhere';
        lines.push(`${name}: ${selects} -> ${peers} on ${portsText(rule.ports)}`);
      }
    }
  }
  return lines.sort();
}

/** What docs/kubernetes.md states, rule for rule; only the database's peer differs between the variants. */
export function expectedPolicyLines(variant: Variant): string[] {
  const database = variant === 'base' ? 'pod(app.kubernetes.io/name=pgbouncer)' : 'cidr(10.20.0.10/32)';
  return [
    'default-deny: * ingress denied',
    'default-deny: * egress denied',
    'allow-dns: * -> ns(kubernetes.io/metadata.name=kube-system)+pod(k8s-app=kube-dns) on UDP/53,TCP/53',
    'web-ingress: web <- anywhere on TCP/8080,TCP/8443',
    'web-egress: web -> pod(api) on TCP/8000',
    'api-ingress: api <- pod(web) on TCP/8000',
    `api-egress: api -> ${database} on TCP/5432`,
    'api-egress: api -> cidr(0.0.0.0/0) on TCP/465,TCP/587',
    `migrate-egress: migrate -> ${database} on TCP/5432`,
  ].sort();
}

/** The NetworkPolicies are exactly the stated ones, and their ports are the ones the pods and settings use. */
export function networkPolicies(rendered: Rendered): string[] {
  const problems: string[] = [];
  const actual = policyLines(rendered);
  const expected = expectedPolicyLines(rendered.variant);
  for (const line of actual) if (!expected.includes(line)) problems.push(`unexpected policy rule: ${line}`);
  for (const line of expected) if (!actual.includes(line)) problems.push(`missing policy rule: ${line}`);
  const env = apiEnvironment(rendered);
  const api = workload(rendered, 'api')?.spec.containers[0];
  const apiPort = portNumber(api, 'http');
  if (String(apiPort) !== env.get('PORT'))
    problems.push(`the API listens on ${env.get('PORT')}, its pod port is ${apiPort}`);
  if (apiPort !== 8000) problems.push(`the policies admit port 8000 to the API, which listens on ${apiPort}`);
  const web = workload(rendered, 'web')?.spec.containers[0];
  const webPorts = (web?.ports ?? []).map((port) => port.containerPort).sort();
  if (webPorts.join(',') !== '8080,8443') problems.push(`nginx listens on ${webPorts}, the policy admits 8080,8443`);
  if (env.get('DB_PORT') !== '5432') problems.push(`DB_PORT is ${env.get('DB_PORT')}, the policies allow 5432`);
  if (rendered.variant === 'production' && env.get('DB_HOST') !== '10.20.0.10') {
    problems.push(`DB_HOST ${env.get('DB_HOST')} is not the address the policies allow (10.20.0.10)`);
  }
  return problems;
}

function httpProbe(probe: IProbe | undefined, container: IContainer | undefined): string {
  if (!probe?.httpGet) return 'none';
  return `GET ${probe.httpGet.path} :${portNumber(container, probe.httpGet.port)}`;
}

/** Readiness is /readyz and liveness /healthz, on the port the API listens on; nginx's liveness is its own listener. */
export function probes(rendered: Rendered): string[] {
  const problems: string[] = [];
  const api = workload(rendered, 'api')?.spec.containers[0];
  const port = apiEnvironment(rendered).get('PORT');
  const expect = (what: string, probe: IProbe | undefined, path: string) => {
    const actual = httpProbe(probe, api);
    if (actual !== `GET ${path} :${port}`) problems.push(`API ${what} probe is ${actual}, not GET ${path} :${port}`);
  };
  expect('readiness', api?.readinessProbe, '/readyz');
  expect('liveness', api?.livenessProbe, '/healthz');
  if (api?.startupProbe) expect('startup', api.startupProbe, '/healthz');
  const web = workload(rendered, 'web')?.spec.containers[0];
  const command = web?.livenessProbe?.exec?.command?.join(' ') ?? '';
  if (!command.includes('http://127.0.0.1:8081/nginx-health')) problems.push(`nginx liveness probe is "${command}"`);
  if (portNumber(web, web?.readinessProbe?.tcpSocket?.port) !== 8443)
    problems.push('nginx readiness is not its TLS port');
  return problems;
}

/** Rolling updates add a pod before removing one: never fewer ready pods than `replicas`. */
export function rollingUpdates(rendered: Rendered): string[] {
  const problems: string[] = [];
  for (const deployment of all<IDeployment>(rendered, 'Deployment')) {
    const what = `Deployment/${deployment.metadata?.name}`;
    const strategy = deployment.spec?.strategy;
    const surge = strategy?.rollingUpdate?.maxSurge;
    const unavailable = strategy?.rollingUpdate?.maxUnavailable;
    if (strategy?.type !== 'RollingUpdate') problems.push(`${what} is not a RollingUpdate`);
    if (unavailable !== 0 && unavailable !== '0%')
      problems.push(`${what} may go below its replicas (maxUnavailable ${unavailable})`);
    if (!(typeof surge === 'number' ? surge >= 1 : Number.parseInt(String(surge), 10) > 0)) {
      problems.push(`${what} has no surge (maxSurge ${surge}): with maxUnavailable 0 it could not roll`);
    }
    if ((deployment.spec?.replicas ?? 1) < 2) problems.push(`${what} runs fewer than 2 replicas`);
  }
  return problems;
}

/** The kubelet waits longer than the server's own drain and shutdown timeout before it kills. */
export function drainTiming(rendered: Rendered): string[] {
  const problems: string[] = [];
  const env = apiEnvironment(rendered);
  const drain = durationSeconds('SHUTDOWN_DRAIN', env.get('SHUTDOWN_DRAIN'));
  const timeout = durationSeconds('SHUTDOWN_TIMEOUT', env.get('SHUTDOWN_TIMEOUT'));
  const api = workload(rendered, 'api')?.spec;
  const grace = api?.terminationGracePeriodSeconds ?? 30;
  if (!(grace > drain + timeout)) {
    problems.push(
      `API terminationGracePeriodSeconds ${grace} is not above SHUTDOWN_DRAIN ${drain} + SHUTDOWN_TIMEOUT ${timeout}`,
    );
  }
  // Kubernetes removes a stopping pod from its Service asynchronously: a drain of a few seconds loses the race.
  if (drain < 10) problems.push(`SHUTDOWN_DRAIN ${drain}s is shorter than endpoint removal can take (10s)`);
  if (api?.containers[0]?.lifecycle?.preStop) problems.push('the API has a preStop hook, which would delay the drain');
  const web = workload(rendered, 'web')?.spec;
  const sleep = Number(web?.containers[0]?.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
  if (!(sleep >= 5)) problems.push(`nginx pauses ${sleep}s before stopping; endpoint removal needs ~5-10s`);
  if (!((web?.terminationGracePeriodSeconds ?? 30) > sleep + 30)) {
    problems.push('nginx terminationGracePeriodSeconds leaves no 30s (proxy_read_timeout) after its pause');
  }
  return problems;
}

/** The disruption budgets and the autoscaler act on the Deployments. */
export function budgetsAndAutoscaler(rendered: Rendered): string[] {
  const problems: string[] = [];
  const deployments = all<IDeployment>(rendered, 'Deployment');
  const covered = new Set<string>();
  for (const budget of all<IPodDisruptionBudget>(rendered, 'PodDisruptionBudget')) {
    const selector = budget.spec?.selector?.matchLabels ?? {};
    const target = deployments.find((deployment) => {
      const labels = deployment.spec?.template.metadata?.labels ?? {};
      return (
        Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value)
      );
    });
    if (!target) problems.push(`PodDisruptionBudget/${budget.metadata?.name} selects no Deployment's pods`);
    else covered.add(target.metadata?.name ?? '');
  }
  if (!covered.has('api')) problems.push('no PodDisruptionBudget covers the API');
  const scalers = all<IHorizontalPodAutoscaler>(rendered, 'HorizontalPodAutoscaler');
  const scaler = scalers.find((candidate) => candidate.spec?.scaleTargetRef.name === 'api');
  const ref = scaler?.spec?.scaleTargetRef;
  const api = deployments.find((deployment) => deployment.metadata?.name === 'api');
  if (!scaler || ref?.kind !== 'Deployment' || ref.apiVersion !== 'apps/v1' || !api) {
    problems.push('no HorizontalPodAutoscaler scales Deployment/api');
  } else {
    const min = scaler.spec?.minReplicas ?? 1;
    if (min < 2) problems.push(`the autoscaler may scale the API down to ${min}`);
    if (api.spec?.replicas !== min)
      problems.push(`Deployment/api replicas ${api.spec?.replicas} differ from the autoscaler's minimum ${min}`);
  }
  return problems;
}

/** Requests and limits everywhere; one server process per API pod. */
export function resources(rendered: Rendered): string[] {
  const problems: string[] = [];
  for (const { what, spec } of workloads(rendered)) {
    for (const container of containersOf(spec)) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (!container.resources?.[kind]?.[resource])
            problems.push(`${what} container ${container.name} has no ${resource} ${kind}`);
        }
      }
    }
  }
  if (apiEnvironment(rendered).get('WEB_CONCURRENCY') !== '1') problems.push('WEB_CONCURRENCY is not 1 per pod');
  return problems;
}

/** nginx as compose runs it: writable places as emptyDirs, the API by its fully qualified name, one public Service. */
export function frontDoor(rendered: Rendered): string[] {
  const problems: string[] = [];
  const web = workload(rendered, 'web');
  const container = web?.spec.containers[0];
  const env = container ? environmentOf(rendered, container) : new Map<string, string | undefined>();
  for (const path of ['/tmp', '/etc/nginx/conf.d']) {
    const mount = container?.volumeMounts?.find((candidate) => candidate.mountPath === path);
    const volume = web?.spec.volumes?.find((candidate) => candidate.name === mount?.name);
    if (!volume?.emptyDir) problems.push(`nginx has no emptyDir at ${path}`);
  }
  const service = named<IService>(rendered, 'Service', 'api');
  const apiPort = service?.spec?.ports?.[0]?.port;
  const upstream = `api.${service?.metadata?.namespace}.svc.cluster.local:${apiPort}`;
  if (env.get('API_UPSTREAM') !== upstream)
    problems.push(`API_UPSTREAM is ${env.get('API_UPSTREAM')}, not ${upstream}`);
  if (!env.get('RESOLVER')?.endsWith('.svc.cluster.local'))
    problems.push(`RESOLVER ${env.get('RESOLVER')} is not the cluster DNS`);
  if (service?.spec?.type !== 'ClusterIP') problems.push('the api Service is reachable from outside the cluster');
  // Headless, so nginx gets every ready pod's address and retries the next one (api-service.yaml).
  if (service?.spec?.clusterIP !== 'None') problems.push('the api Service hides its pods behind one virtual IP');
  const publicService = named<IService>(rendered, 'Service', 'web');
  if (publicService?.spec?.type !== 'LoadBalancer') problems.push('the web Service is not the LoadBalancer');
  if (publicService?.spec?.externalTrafficPolicy !== 'Local') problems.push('the web Service hides client addresses');
  const ports = (publicService?.spec?.ports ?? []).map(
    (port) => `${port.port}->${portNumber(container, port.targetPort)}`,
  );
  if (ports.sort().join(' ') !== '443->8443 80->8080') problems.push(`the web Service maps ${ports.join(' ')}`);
  const publicOnes = all<IService>(rendered, 'Service').filter((candidate) => candidate.spec?.type !== 'ClusterIP');
  if (publicOnes.length !== 1) problems.push(`${publicOnes.length} Services are reachable from outside`);
  return problems;
}

/** The migration Job runs the API's image and its migrate verb, once. */
export function migrationJob(rendered: Rendered): string[] {
  const problems: string[] = [];
  const job = workload(rendered, 'migrate');
  const container = job?.spec.containers[0];
  const api = workload(rendered, 'api')?.spec.containers[0];
  if (!job || container?.command?.join(' ') !== 'node dist/cli.js migrate')
    problems.push('no Job runs node dist/cli.js migrate');
  if (container?.image !== api?.image) problems.push(`the migration runs ${container?.image}, the API ${api?.image}`);
  if (job?.spec.restartPolicy !== 'Never') problems.push('the migration Job restarts its container in place');
  return problems;
}

/** The production overlay: images by digest, and PgBouncer in transaction mode. */
export function productionChoices(rendered: Rendered): string[] {
  if (rendered.variant !== 'production') return [];
  const problems: string[] = [];
  for (const { what, spec } of workloads(rendered)) {
    for (const container of containersOf(spec)) {
      if (!/@sha256:[0-9a-f]{64}$/.test(container.image ?? ''))
        problems.push(`${what} image ${container.image} is not pinned by digest`);
    }
  }
  if (apiEnvironment(rendered).get('DB_POOL_MODE') !== 'transaction')
    problems.push('DB_POOL_MODE is not transaction behind PgBouncer');
  return problems;
}

/** Sample secrets for the files the Secret would hold: strong, so that only the manifests' own settings are judged. */
const SAMPLE_FILES: Record<string, string> = {
  SECRET_KEY_FILE: STRONG_KEY,
  POSTGRES_PASSWORD_FILE: `pw-${STRONG_KEY.slice(-24)}`,
  SMTP_URL_FILE: 'smtps://tasks:relay-password@smtp.example.com:465',
};
/** The one rule the manifests knowingly trip: the pod CIDR in TRUST_PROXY (api-config.yaml says why). */
const ACCEPTED_RULES = new Set(['config.trust-proxy.range']);

/**
 * The API's environment, with sample files at its *_FILE paths, goes through the server's own loader: it must start
 * (no refusal) and raise no warning but the accepted one. PUBLIC_URL outside ALLOWED_HOSTS, a malformed
 * TRUST_PROXY or DEBUG left on fail here as they would fail the pod at start.
 */
export function settingsLoad(rendered: Rendered): string[] {
  const problems: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ironclad-k8s-settings-'));
  try {
    for (const component of ['api', 'migrate']) {
      const container = workload(rendered, component)?.spec.containers[0];
      if (!container) continue;
      const env: Record<string, string> = {};
      for (const [name, value] of environmentOf(rendered, container)) {
        if (value === undefined) continue;
        const sample = SAMPLE_FILES[name];
        if (sample === undefined) {
          env[name] = value;
          continue;
        }
        const file = join(dir, name);
        writeFileSync(file, sample, { mode: 0o600 });
        env[name] = file;
      }
      const inspection = inspectConfig({ env, dotEnv: false, cwd: dir });
      for (const problem of inspection.problems) problems.push(`${component}: refused: ${problem}`);
      for (const finding of inspection.findings) {
        if (finding.severity === 'info' || ACCEPTED_RULES.has(finding.id)) continue;
        // The migration sends no email, so it is given no SMTP_URL_FILE (migrate-job.yaml mounts only two keys).
        if (component === 'migrate' && finding.id === 'config.email.disabled') continue;
        problems.push(`${component}: ${finding.id}: ${finding.message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

export const PROMISES: Record<string, (rendered: Rendered) => string[]> = {
  restricted,
  noSecretInEnvironment,
  secretFilesMounted,
  settingNamesKnown,
  networkPolicies,
  probes,
  rollingUpdates,
  drainTiming,
  budgetsAndAutoscaler,
  resources,
  frontDoor,
  migrationJob,
  productionChoices,
  settingsLoad,
};

/** Setting names the self-check uses, typed so a rename in the schema fails to compile here. */
export const SECRET_KEY: SettingName = 'SECRET_KEY';
