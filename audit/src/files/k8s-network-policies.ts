/**
 * NetworkPolicies across a checkout's Kubernetes manifests. Without any, every pod in the cluster reaches every
 * other on every port: the database, the API behind its proxy, the metadata service. Judged over the whole
 * checkout (a kustomize base and its overlays are one manifest set; policies often sit in a file of their own):
 *
 * - workloads but no policy at all (of Kubernetes or of Cilium/Calico/AdminNetworkPolicy): `files.k8s.no-network-policy`;
 * - Kubernetes NetworkPolicies only, and none that denies all ingress by default in the workloads' namespace:
 *   `files.k8s.no-default-deny` (policies that merely allow leave every pod they do not select open; a default deny
 *   in another namespace closes nothing here). A namespace is the kustomization's `namespace:` where one applies,
 *   else the object's own; an object without either counts for any namespace (it lands where it is applied);
 * - a policy selecting every pod with a rule that admits everything (an ingress rule with neither `from` nor
 *   `ports`, an egress rule with neither `to` nor `ports`): `files.k8s.network-policy-allows-all`, since rules add
 *   up and such a rule undoes the default deny beside it;
 * - a `TRUST_PROXY` range in a ConfigMap (`config.trust-proxy.range`) becomes `files.k8s.trust-proxy-fenced` (info)
 *   when the policies fence the server's port: ingress denied by default, and that port admitted only from pods
 *   chosen by label, never from an address block, a whole namespace or anywhere.
 *
 * Hand-written: no npm library evaluates NetworkPolicy semantics offline.
 */
import { declaresKind } from './manifest-kind.js';

type Json = Record<string, unknown>;

/** Policy kinds of other engines: when present, who may connect is not for this module to judge. */
export const OTHER_POLICY_KINDS = [
  'CiliumNetworkPolicy',
  'CiliumClusterwideNetworkPolicy',
  'GlobalNetworkPolicy',
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
];

/** Where a policy was found: its file and line, and its namespace (undefined: wherever it is applied). */
export interface PolicySource {
  location: string;
  namespace: string | undefined;
  /** In a development overlay, a test or a doc: not what production runs. */
  production: boolean;
}

/** What the manifests of one checkout say about NetworkPolicies, gathered file by file. */
export interface PolicySet {
  /** Kubernetes NetworkPolicy objects (networking.k8s.io), as parsed. */
  policies: Json[];
  /** Where each policy of `policies` came from. */
  sources: Map<Json, PolicySource>;
  /** A policy that could not be read (a Helm template) or belongs to another engine. */
  opaque: boolean;
}

export function emptyPolicySet(): PolicySet {
  return { policies: [], sources: new Map(), opaque: false };
}

/** Notes a file's policies that are not plain YAML objects: templates and other engines' kinds. */
export function notePolicyText(set: PolicySet, text: string): void {
  if (declaresKind(text, OTHER_POLICY_KINDS)) set.opaque = true;
}

/** A parsed object that is a NetworkPolicy: Kubernetes's, or Calico's namesake (projectcalico.org), which is opaque. */
export function notePolicyObject(set: PolicySet, object: Json, source?: PolicySource): void {
  if (object.kind !== 'NetworkPolicy') return;
  if (String(object.apiVersion).startsWith('networking.k8s.io/')) {
    set.policies.push(object);
    if (source) set.sources.set(object, source);
  } else set.opaque = true;
}

/** Whether a policy in `policyNamespace` governs pods in `podNamespace` (undefined: wherever it is applied). */
export function sameNamespace(policyNamespace: string | undefined, podNamespace: string | undefined): boolean {
  return policyNamespace === undefined || podNamespace === undefined || policyNamespace === podNamespace;
}

/** Whether some default-deny policy governs pods of `namespace`. */
export function deniesByDefaultIn(set: PolicySet, namespace: string | undefined): boolean {
  return set.policies.some(
    (policy) => isDefaultDenyIngress(policy) && sameNamespace(set.sources.get(policy)?.namespace, namespace),
  );
}

/**
 * What a policy that selects every pod of its namespace opens to everything: `ingress` for a rule with neither
 * `from` nor `ports` (every source, every port), `egress` for a rule with neither `to` nor `ports`. Rules of all
 * policies add up, so one such rule undoes the default deny of its direction for the whole namespace.
 */
export function allowsAll(policy: Json): ('ingress' | 'egress')[] {
  const spec = record(policy.spec);
  if (spec.podSelector === undefined || !selectsAll(spec.podSelector)) return [];
  const types = policyTypes(spec);
  const open = (rule: unknown, peers: 'from' | 'to') =>
    list(record(rule)[peers]).length === 0 && list(record(rule).ports).length === 0;
  const found: ('ingress' | 'egress')[] = [];
  if (types.includes('Ingress') && list(spec.ingress).some((rule) => open(rule, 'from'))) found.push('ingress');
  if (types.includes('Egress') && list(spec.egress).some((rule) => open(rule, 'to'))) found.push('egress');
  return found;
}

function record(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A label selector that selects everything: `{}`, or absent. */
function selectsAll(selector: unknown): boolean {
  const value = record(selector);
  return Object.keys(record(value.matchLabels)).length === 0 && list(value.matchExpressions).length === 0;
}

function policyTypes(spec: Json): string[] {
  const types = list(spec.policyTypes).map(String);
  if (types.length > 0) return types;
  // Kubernetes's default: Ingress always, Egress when egress rules are given.
  return spec.egress === undefined ? ['Ingress'] : ['Ingress', 'Egress'];
}

/** Denies all ingress to every pod of its namespace unless another policy allows it. */
export function isDefaultDenyIngress(policy: Json): boolean {
  const spec = record(policy.spec);
  // podSelector is required: a policy without one is a fragment (a patch), not a rule for every pod.
  return (
    spec.podSelector !== undefined &&
    selectsAll(spec.podSelector) &&
    policyTypes(spec).includes('Ingress') &&
    list(spec.ingress).length === 0
  );
}

/** Whether one ingress rule admits `port` (a rule without ports admits every port). */
function admitsPort(rule: Json, port: number): boolean {
  const ports = list(rule.ports);
  if (ports.length === 0) return true;
  return ports.some((item) => {
    const entry = record(item);
    if (entry.port === undefined) return true;
    // A named port may be anything: counted as admitting.
    if (typeof entry.port !== 'number') return true;
    const end = typeof entry.endPort === 'number' ? entry.endPort : entry.port;
    return port >= entry.port && port <= end;
  });
}

/** A peer that names pods by label in the policy's own namespace: nothing else can be it. */
function isLabelledPodPeer(peer: unknown): boolean {
  const value = record(peer);
  return (
    value.podSelector !== undefined &&
    !selectsAll(value.podSelector) &&
    value.namespaceSelector === undefined &&
    value.ipBlock === undefined
  );
}

/**
 * Whether the policies fence `port`: all ingress is denied by default, some rule admits the port from labelled pods,
 * and no rule admits it from anything else.
 */
export function fencesPort(set: PolicySet, port: number, namespace?: string): boolean {
  if (set.opaque || !deniesByDefaultIn(set, namespace)) return false;
  let admitted = false;
  for (const policy of set.policies) {
    // Every policy of the namespace counts, whatever it selects: an allow-all one opens the fence for all.
    if (!sameNamespace(set.sources.get(policy)?.namespace, namespace)) continue;
    const spec = record(policy.spec);
    if (!policyTypes(spec).includes('Ingress')) continue;
    for (const item of list(spec.ingress)) {
      const rule = record(item);
      if (!admitsPort(rule, port)) continue;
      const peers = list(rule.from);
      if (peers.length === 0 || !peers.every(isLabelledPodPeer)) return false;
      admitted = true;
    }
  }
  return admitted;
}
