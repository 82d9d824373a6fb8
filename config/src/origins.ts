/** Why a CORS_ALLOWED_ORIGINS entry is not an exact origin, or undefined when it is one. */
export function originProblem(entry: string): string | undefined {
  if (entry === '*') return '"*" would let every website call the API; list the exact origins instead';
  if (entry.toLowerCase() === 'null') {
    return '"null" is the origin of sandboxed frames and local files, which any page can produce; list exact origins';
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `"${entry}" is not an origin; write it as scheme://host[:port], e.g. https://tasks.example.com`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"${entry}" is not an http(s) origin`;
  }
  if (url.origin !== entry) {
    return `"${entry}" is not an exact origin (no path, trailing slash, query, user or default port; lower case); did you mean "${url.origin}"?`;
  }
  return undefined;
}

export function isLocalOrigin(origin: string): boolean {
  const { hostname } = new URL(origin);
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}
