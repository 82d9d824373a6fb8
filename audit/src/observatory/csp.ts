/**
 * The Content-Security-Policy test of the MDN HTTP Observatory (@mdn/mdn-http-observatory 1.4.8,
 * src/analyzer/cspParser.js and src/analyzer/tests/csp.js), ported step by step, quirks included: the score has to
 * be the one the reference gives, and audit/test/observatory-reference.test.ts compares the two on a matrix.
 */

const compareString = new Intl.Collator('en').compare;

// The reference rejects a policy shorter than "img-src" minus one character.
const SHORTEST_POLICY = 'img-src'.length - 1;
const DIRECTIVES_DISALLOWED_IN_META = ['frame-ancestors', 'report-uri', 'sandbox'];
const ALLOWED_DUPLICATE_KEYS = new Set(['report-uri', 'report-to']);
/** Map key under which the parser notes tolerated duplicate directives (report-uri, report-to). */
export const DUPLICATE_WARNINGS_KEY = '_observatory_duplicate_key_warnings';

interface Source {
  source: string;
  index: number;
  keep: boolean;
}

/** Is `pathB` covered by `pathA` (a source of one policy that another policy repeats)? */
function pathPartMatch(pathA: string, pathB: string): boolean {
  if (pathA.length === 0) return true;
  if (pathA === '/' && pathB.length === 0) return true;
  const exactMatch = !pathA.endsWith('/');
  const listA = pathA.split('/');
  const listB = pathB.split('/');
  if (listA.length > listB.length) return false;
  if (exactMatch && listA.length !== listB.length) return false;
  if (!exactMatch) listA.pop();
  for (let i = 0; i < listA.length; i++) {
    let a: string;
    let b: string;
    try {
      a = decodeURIComponent(listA[i] ?? '');
      b = decodeURIComponent(listB[i] ?? '');
    } catch {
      throw new Error('undecodable source');
    }
    if (a !== b) return false;
  }
  return true;
}

/**
 * Parses one or more policies (header values, then meta contents) into directive -> sources. Throws on what the
 * reference calls invalid: an empty or too short policy, a repeated directive other than report-uri/report-to.
 * Several policies intersect: a source counts only when every policy allows it.
 */
export function parseCspList(cspList: string[]): Map<string, Set<string>> {
  const clean = cspList.map((csp) => csp.replaceAll('\r', '').replaceAll('\n', '').trim());
  if (clean.length === 0) return new Map();
  for (const csp of clean) {
    if (!csp || csp.length < SHORTEST_POLICY) throw new Error('invalid policy');
  }
  const csp = new Map<string, Source[]>();
  const duplicateWarnings = new Set<string>();
  for (const [policyIndex, policy] of clean.entries()) {
    const seen = new Set<string>();
    for (const entry of policy.split(';')) {
      const [directiveEntry, ...valueEntries] = entry.trim().split(/\s+/);
      if (!directiveEntry) continue;
      const directive = directiveEntry.toLowerCase();
      if (seen.has(directive)) {
        if (ALLOWED_DUPLICATE_KEYS.has(directive)) duplicateWarnings.add(directive);
        else throw new Error('duplicate directive');
      } else {
        seen.add(directive);
      }
      const keep = policyIndex === 0;
      const values: Source[] = valueEntries.map((raw) => ({
        source: raw.trim().toLocaleLowerCase(),
        index: policyIndex,
        keep,
      }));
      // A source list with no value is 'none'.
      if (valueEntries.length === 0 && directive.endsWith('-src'))
        values.push({ source: "'none'", index: policyIndex, keep });
      const combined = policyIndex === 0 ? [...values] : [...(csp.get(directive) ?? []), ...values];
      combined.sort((a, b) => compareString(a.source, b.source));
      for (let i = 1; i < combined.length; i++) {
        const source = combined[i] as Source;
        const prev = combined[i - 1] as Source;
        // Within one policy a longer source that starts like a shorter one is superfluous.
        if (source.index === prev.index && source.source.startsWith(prev.source)) source.keep = false;
        // Across policies a source has to be in both to count.
        if (source.index !== prev.index && pathPartMatch(prev.source, source.source)) source.keep = true;
      }
      csp.set(
        directive,
        combined.filter((source) => source.keep),
      );
      // With more policies to come, what the first one allows is kept only if a later one allows it too.
      if (policyIndex === 0 && cspList.length > 1) {
        for (const source of csp.get(directive) ?? []) source.keep = false;
      }
    }
  }
  const final = new Map<string, Set<string>>(
    [...csp.entries()].map(([directive, sources]) => [
      directive,
      sources.length > 0 ? new Set(sources.map((s) => s.source)) : new Set(["'none'"]),
    ]),
  );
  if (duplicateWarnings.size > 0) final.set(DUPLICATE_WARNINGS_KEY, duplicateWarnings);
  return final;
}

function parseOrEmpty(list: string[], meta: boolean): Map<string, Set<string>> {
  try {
    const parsed = parseCspList(list);
    if (meta) for (const directive of DIRECTIVES_DISALLOWED_IN_META) parsed.delete(directive);
    return parsed;
  } catch {
    return new Map();
  }
}

const DANGEROUSLY_BROAD = new Set([
  'ftp:',
  'http:',
  'https:',
  '*',
  'http://*',
  'http://*.*',
  'https://*',
  'https://*.*',
]);
const UNSAFE_INLINE = new Set(["'unsafe-inline'", 'data:']);
const BROAD_OR_INLINE = new Set([...DANGEROUSLY_BROAD, ...UNSAFE_INLINE]);
const PASSIVE_DIRECTIVES = ['img-src', 'media-src'];
const NONCES_HASHES = ["'sha256-", "'sha384-", "'sha512-", "'nonce-"];

const hasNonceOrHash = (sources: Set<string>) =>
  [...sources].some((source) => NONCES_HASHES.some((prefix) => source.startsWith(prefix)));
const insecureScheme = (source: string) => source.startsWith('http:') || source.startsWith('ftp:');

export interface CspVerdict {
  result: string;
  /** The combined policy (header and meta), undefined when none was parsed; X-Frame-Options reads frame-ancestors. */
  policy?: Map<string, Set<string>>;
}

/**
 * @param headerPolicies Content-Security-Policy header values as received (Node joins repeated headers with ", ").
 * @param metaPolicies contents of `<meta http-equiv="Content-Security-Policy">` in an HTML answer.
 * @param reportOnly the Content-Security-Policy-Report-Only header is present.
 * @param https the answer was fetched over HTTPS (http: sources only count against an HTTPS site).
 */
export function cspVerdict(
  headerPolicies: string[],
  metaPolicies: string[],
  reportOnly: boolean,
  https: boolean,
): CspVerdict {
  let csp: Map<string, Set<string>>;
  try {
    csp = parseCspList([...headerPolicies, ...metaPolicies]);
  } catch {
    return { result: 'csp-header-invalid' };
  }
  const headerOnly = parseOrEmpty(headerPolicies, false);
  const meta = parseOrEmpty(metaPolicies, true);
  // A lone meta policy of directives not allowed in meta counts as no policy.
  if (headerOnly.size + meta.size === 0) {
    return { result: reportOnly ? 'csp-not-implemented-but-reporting-enabled' : 'csp-not-implemented' };
  }
  let result: string | undefined;
  const set = (value: string) => {
    result ??= value;
  };
  const everything = () => new Set(['*']);
  const objectSrc = csp.get('object-src') ?? csp.get('default-src') ?? everything();
  const scriptSrc = csp.get('script-src') ?? csp.get('default-src') ?? everything();
  const styleSrc = csp.get('style-src') ?? csp.get('default-src') ?? everything();

  // A nonce or hash makes browsers ignore 'unsafe-inline'. The reference edits the parsed sets in place (they are
  // the policy's own when the directive exists), so the later checks see the edit too.
  for (const sources of [scriptSrc, styleSrc]) {
    if (hasNonceOrHash(sources) && sources.has("'unsafe-inline'")) sources.delete("'unsafe-inline'");
  }
  // 'strict-dynamic' with a nonce or hash makes host and scheme sources, 'self' and 'unsafe-inline' ignored.
  if (hasNonceOrHash(scriptSrc) && scriptSrc.has("'strict-dynamic'")) {
    for (const source of [...scriptSrc]) {
      if (
        [...DANGEROUSLY_BROAD].some((broad) => source.startsWith(broad)) ||
        source === "'self'" ||
        source === "'unsafe-inline'"
      ) {
        scriptSrc.delete(source);
      }
    }
  } else if (scriptSrc.has("'strict-dynamic'")) {
    set('csp-header-invalid');
  }

  const active = [...csp.entries()]
    .filter(([directive]) => !PASSIVE_DIRECTIVES.includes(directive) && directive !== 'script-src')
    .flatMap(([, sources]) => [...sources]);
  active.push(...scriptSrc);
  const passive = PASSIVE_DIRECTIVES.flatMap((directive) => [
    ...(csp.get(directive) ?? csp.get('default-src') ?? new Set<string>()),
  ]);

  if ([...scriptSrc].some((s) => BROAD_OR_INLINE.has(s)) || [...objectSrc].some((s) => DANGEROUSLY_BROAD.has(s))) {
    set('csp-implemented-with-unsafe-inline');
  }
  if (https && active.some(insecureScheme)) set('csp-implemented-with-insecure-scheme');
  if (scriptSrc.has("'unsafe-eval'") || styleSrc.has("'unsafe-eval'")) set('csp-implemented-with-unsafe-eval');
  if (https && passive.some(insecureScheme)) set('csp-implemented-with-insecure-scheme-in-passive-content-only');
  if ([...styleSrc].some((s) => BROAD_OR_INLINE.has(s))) set('csp-implemented-with-unsafe-inline-in-style-src-only');
  const defaults = csp.get('default-src');
  if (defaults?.has("'none'") && defaults.size === 1) set('csp-implemented-with-no-unsafe-default-src-none');
  else set('csp-implemented-with-no-unsafe');

  const passing = [
    'csp-implemented-with-no-unsafe',
    'csp-implemented-with-no-unsafe-default-src-none',
    'csp-implemented-with-unsafe-inline-in-style-src-only',
    'csp-implemented-with-insecure-scheme-in-passive-content-only',
  ];
  if (result && passing.includes(result) && csp.has(DUPLICATE_WARNINGS_KEY)) {
    result = 'csp-implemented-but-duplicate-directives';
  }
  csp.delete(DUPLICATE_WARNINGS_KEY);
  return { result: result ?? 'csp-implemented-with-no-unsafe', policy: csp };
}
