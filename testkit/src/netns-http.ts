/**
 * One HTTP(S) request from inside a namespace (netns-probe.ts runs there): to an address, with the site's name as
 * Host and SNI, the test certificate as the only CA, and an optional local address so that one process can be many
 * clients to nginx's per-address limits. Plain node:https; the answer is read whole.
 */
import { type Agent, request as httpRequest } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface Target {
  /** Address to connect to (edge's public address, or an app's private one). */
  address: string;
  port: number;
  scheme: 'http' | 'https';
  /** Host header and TLS SNI. */
  domain: string;
  /** PEM of the CA to trust (the self-signed certificate nginx presents). */
  ca?: string;
}

export interface Step {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

export function send(
  target: Target,
  step: Step,
  {
    localAddress,
    agent,
    timeoutMs = 15_000,
  }: { localAddress?: string; agent?: Agent | HttpsAgent; timeoutMs?: number } = {},
): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { host: target.domain, ...step.headers };
  if (step.body !== undefined) headers['content-length'] = String(Buffer.byteLength(step.body));
  const common = {
    host: target.address,
    port: target.port,
    method: step.method ?? 'GET',
    path: step.path,
    headers,
    agent: agent ?? (false as const),
    ...(localAddress ? { localAddress } : {}),
  };
  return new Promise((resolve, reject) => {
    const req =
      target.scheme === 'https'
        ? httpsRequest({ ...common, servername: target.domain, ...(target.ca ? { ca: target.ca } : {}) })
        : httpRequest(common);
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(step.body);
  });
}
