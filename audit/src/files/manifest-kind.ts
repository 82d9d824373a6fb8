/**
 * Whether a YAML text declares a Kubernetes object of one of `kinds` (`kind: Secret`, `kind: "SealedSecret"`). By
 * indexOf and a short read after each `kind:`, not a regex: linear, and nothing for the ReDoS analyser to time out on.
 */
export function declaresKind(text: string, kinds: readonly string[]): boolean {
  for (let at = text.indexOf('kind:'); at !== -1; at = text.indexOf('kind:', at + 5)) {
    let i = at + 5;
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '"' || text[i] === "'") i += 1;
    for (const kind of kinds) {
      const next = text[i + kind.length] ?? '';
      if (text.startsWith(kind, i) && !/[A-Za-z0-9_]/.test(next)) return true;
    }
  }
  return false;
}
