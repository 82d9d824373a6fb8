/**
 * What is a Kubernetes manifest, and how to read one as the cluster does.
 *
 * `kubectl` and kustomize read YAML with sigs.k8s.io/yaml (go-yaml, YAML 1.1): `yes`/`on` are true, `no`/`off` are
 * false, `<<:` merge keys apply, and a repeated key keeps its last value. The `yaml` library reads YAML 1.2 by default,
 * where none of that holds: `privileged: on` would be a string and `<<: *sc` a plain key, so a manifest could say one
 * thing to the cluster and another to the auditor. Every Kubernetes parse here uses KUBERNETES_YAML.
 */
export const KUBERNETES_YAML = { version: '1.1', merge: true, uniqueKeys: false } as const;

/** File names kustomize accepts for a kustomization (kustomize's own list: it has no other). */
export const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** Files that can hold a Kubernetes manifest: YAML, and JSON (kubectl applies both). */
export function isManifestFileName(path: string): boolean {
  const lower = path.toLowerCase();
  return lower.endsWith('.yml') || lower.endsWith('.yaml') || lower.endsWith('.json');
}

/** A parsed document that is a Kubernetes object: a string `apiVersion` and `kind` (package.json and tsconfig are not). */
export function isKubernetesObject(value: unknown): value is Record<string, unknown> & { kind: string } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const object = value as Record<string, unknown>;
  return typeof object.apiVersion === 'string' && typeof object.kind === 'string';
}

/**
 * Whether a YAML or JSON text declares a Kubernetes object of one of `kinds` (`kind: Secret`, `kind: "SealedSecret"`,
 * `"kind":"Secret"`). A cheap look before parsing; by indexOf and a short read after each `kind`, not a regex: linear,
 * and nothing for the ReDoS analyser to time out on.
 */
export function declaresKind(text: string, kinds: readonly string[]): boolean {
  for (let at = text.indexOf('kind'); at !== -1; at = text.indexOf('kind', at + 4)) {
    let i = at + 4;
    // The key may be quoted (JSON, or YAML written like it): `"kind": "Secret"`.
    if (text[i] === '"' || text[i] === "'") i += 1;
    while (text[i] === ' ' || text[i] === '\t') i += 1;
    if (text[i] !== ':') continue;
    i += 1;
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '"' || text[i] === "'") i += 1;
    for (const kind of kinds) {
      const next = text[i + kind.length] ?? '';
      if (text.startsWith(kind, i) && !/[A-Za-z0-9_]/.test(next)) return true;
    }
  }
  return false;
}
