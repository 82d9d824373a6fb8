/**
 * Steady load through nginx from the `internet` namespace (run by netns-probe.ts `load`): each client has its own
 * source address and account, sends one request at a time at a fixed pace, mixed GET list and POST create (every
 * POST with its own Idempotency-Key), keeps one keep-alive connection and opens a fresh TLS connection for every
 * few requests. Runs until told to stop; then reports every failure and every acknowledged task.
 *
 * A failure is anything but a 2xx: a status, or an error (refused, reset, timed out). With `retryPosts`, a create
 * that failed is sent again with the same key until it is acknowledged (what a careful client does): the report
 * then says how many first attempts failed and which task each key ended as, so the test can check that nothing
 * acknowledged was lost and nothing was stored twice.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { type Answer, send, type Target } from './netns-http.js';

export interface LoadClient {
  address: string;
  token: string;
}

export interface LoadConfig {
  target: Target;
  clients: LoadClient[];
  /** Milliseconds between the starts of two requests of one client. */
  intervalMs: number;
  /** Every n-th request of a client is a POST create; the rest GET the list. */
  postEvery: number;
  /** Every n-th request opens a new TLS connection instead of reusing the client's keep-alive one. */
  freshEvery: number;
  retryPosts: boolean;
}

export interface Failure {
  kind: 'GET' | 'POST';
  at: number;
  status?: number;
  error?: string;
  /** For an answer: its Retry-After header and the `error` of its JSON body, if any. */
  retryAfter?: string;
  message?: string;
  address: string;
}

export interface LoadReport {
  durationMs: number;
  requests: { GET: number; POST: number };
  freshConnections: number;
  /** First attempts that failed (non-2xx or error). */
  failures: Failure[];
  /** Creates acknowledged (201, or 200 replayed): key -> task id. */
  acknowledged: Array<{ key: string; id: number; title: string; replayed: boolean; attempts: number }>;
  /** Creates never acknowledged even after retries (should be none). */
  abandoned: string[];
  latencyMs: { p50: number; p99: number; max: number };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

export async function runLoad(config: LoadConfig, stopped: Promise<void>): Promise<LoadReport> {
  let stopping = false;
  void stopped.then(() => {
    stopping = true;
  });
  const started = performance.now();
  const report: LoadReport = {
    durationMs: 0,
    requests: { GET: 0, POST: 0 },
    freshConnections: 0,
    failures: [],
    acknowledged: [],
    abandoned: [],
    latencyMs: { p50: 0, p99: 0, max: 0 },
  };
  const latencies: number[] = [];
  const at = () => Math.round(performance.now() - started);

  const attempt = async (
    client: LoadClient,
    kind: 'GET' | 'POST',
    agent: Agent | undefined,
    key?: string,
    title?: string,
  ): Promise<Answer | string> => {
    report.requests[kind] += 1;
    if (!agent) report.freshConnections += 1;
    const headers: Record<string, string> = { authorization: `Token ${client.token}` };
    try {
      const answer = await send(
        config.target,
        kind === 'GET'
          ? { path: '/api/v1/tasks/?limit=5', headers }
          : {
              method: 'POST',
              path: '/api/v1/tasks/',
              headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': key as string },
              body: JSON.stringify({ title }),
            },
        { localAddress: client.address, ...(agent ? { agent } : {}) },
      );
      latencies.push(answer.ms);
      return answer;
    } catch (error) {
      return String((error as Error).message);
    }
  };
  /** Records a first attempt that failed; true when it did. */
  const failed = (client: LoadClient, kind: 'GET' | 'POST', outcome: Answer | string): boolean => {
    if (typeof outcome === 'string') {
      report.failures.push({ kind, at: at(), error: outcome, address: client.address });
      return true;
    }
    if (outcome.status >= 200 && outcome.status <= 299) return false;
    let message: string | undefined;
    try {
      message = (JSON.parse(outcome.body) as { error?: string }).error;
    } catch {
      // not JSON: left undefined
    }
    const retryAfter = outcome.headers['retry-after'];
    report.failures.push({
      kind,
      at: at(),
      status: outcome.status,
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      ...(message ? { message } : {}),
      address: client.address,
    });
    return true;
  };

  const runClient = async (client: LoadClient, index: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Spread the clients over one interval so the load is steady rather than in waves.
    await sleep((config.intervalMs * index) / config.clients.length);
    for (let n = 1; !stopping; n += 1) {
      const tick = performance.now();
      const fresh = n % config.freshEvery === 0;
      if (n % config.postEvery === 0) {
        const key = `load-${randomBytes(9).toString('base64url')}`;
        const title = `load ${key}`;
        let attempts = 1;
        let answer = await attempt(client, 'POST', fresh ? undefined : agent, key, title);
        failed(client, 'POST', answer);
        while (config.retryPosts && (typeof answer === 'string' || answer.status >= 500) && attempts < 20) {
          await sleep(200);
          attempts += 1;
          answer = await attempt(client, 'POST', undefined, key, title);
        }
        if (typeof answer !== 'string' && (answer.status === 201 || answer.status === 200)) {
          const task = JSON.parse(answer.body) as { id: number };
          report.acknowledged.push({
            key,
            id: task.id,
            title,
            replayed: answer.headers['idempotent-replayed'] === 'true',
            attempts,
          });
        } else {
          report.abandoned.push(key);
        }
      } else {
        failed(client, 'GET', await attempt(client, 'GET', fresh ? undefined : agent));
      }
      const wait = config.intervalMs - (performance.now() - tick);
      if (wait > 0) await sleep(wait);
    }
    agent.destroy();
  };

  await Promise.all(config.clients.map(runClient));
  report.durationMs = at();
  latencies.sort((a, b) => a - b);
  report.latencyMs = {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: Math.round(latencies.at(-1) ?? 0),
  };
  return report;
}
