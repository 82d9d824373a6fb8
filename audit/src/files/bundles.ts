/**
 * Built JavaScript: minified bundles and their source maps. A key that reached the browser bundle is public, so they
 * are scanned; but a bundle is full of random-looking strings (hashes, ids, inlined data), so only the key-format
 * rules run there (secretlint's and secret-patterns.ts), not the entropy or assignment heuristics.
 */

/**
 * Paths that name built output: `*.min.js`, `*.bundle.js`, `*.chunk.js`, and content-hashed names (webpack's
 * `main.3f9a2c1b.js`, Vite's `index-BZ5zZ1cv.js`). A hash has a digit in it; `app-settings.js` is a name.
 */
export function isBundlePath(path: string): boolean {
  const base = path.split('/').pop() ?? path;
  if (/\.(min|bundle|chunk)\.[cm]?js$/i.test(base)) return true;
  const stem = base.replace(/(\.chunk)?\.[cm]?js$/i, '');
  if (stem === base) return false;
  const hash = stem.slice(Math.max(stem.lastIndexOf('.'), stem.lastIndexOf('-')) + 1);
  return (
    stem.length > hash.length &&
    hash.length >= 8 &&
    hash.length <= 20 &&
    /^[0-9A-Za-z_]+$/.test(hash) &&
    /[0-9]/.test(hash)
  );
}

export function isSourceMap(path: string): boolean {
  return /\.(js|mjs|cjs|css)\.map$/i.test(path) || /\.map$/i.test(path);
}

/** A line longer than this in a .js/.css file means it was minified (hand-written code wraps long before). */
const MINIFIED_LINE = 2000;

/** Built output by name, or JavaScript/CSS with a minified line. */
export function isBundle(path: string, content: string): boolean {
  if (isBundlePath(path)) return true;
  if (!/\.([cm]?js|css)$/i.test(path)) return false;
  let start = 0;
  for (let end = content.indexOf('\n'); ; end = content.indexOf('\n', start)) {
    const stop = end === -1 ? content.length : end;
    if (stop - start > MINIFIED_LINE) return true;
    if (end === -1) return false;
    start = end + 1;
  }
}

/** The embedded sources of a source map (`sourcesContent`), joined by newlines; undefined if it is not one. */
export function sourceMapSources(content: string): string | undefined {
  try {
    const map = JSON.parse(content) as {
      sourcesContent?: unknown;
      sections?: { map?: { sourcesContent?: unknown } }[];
    };
    const lists = [map.sourcesContent, ...(map.sections ?? []).map((section) => section.map?.sourcesContent)];
    const sources = lists.flatMap((list) => (Array.isArray(list) ? list : [])).filter((s) => typeof s === 'string');
    return sources.join('\n');
  } catch {
    return undefined;
  }
}
