/**
 * The Content-Security-Policy for the web client's pages. One definition: the server sends it with the pages it
 * serves in single-process mode, and the deployment tests check that nginx's template sends the same policy.
 * The Vite build emits no inline script or style, so none of 'unsafe-inline', 'unsafe-eval' or hashes is needed.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
