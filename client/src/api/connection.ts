/**
 * Whether the server is reachable, as the app learns it from its own calls. When a call finds the server gone,
 * the app shows a banner and probes the API until it answers again; then the banner goes away and the screens
 * reload their data.
 */
type Status = 'online' | 'offline';

const PROBE_URL = '/api/v1/test/';

export class ConnectionMonitor {
  private status: Status = 'online';
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly probe: () => Promise<boolean> = defaultProbe,
    private readonly intervalMs = 2000,
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getStatus = (): Status => this.status;

  /** A call failed to reach the server. */
  lost(): void {
    if (this.status === 'offline') return;
    this.set('offline');
    this.schedule();
  }

  /** A call got an answer from the server. */
  reached(): void {
    if (this.status === 'online') return;
    clearTimeout(this.timer);
    this.set('online');
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (this.status === 'online') return;
      if (await this.probe()) this.reached();
      else this.schedule();
    }, this.intervalMs);
  }

  private set(status: Status): void {
    this.status = status;
    for (const listener of this.listeners) listener();
  }
}

async function defaultProbe(): Promise<boolean> {
  try {
    const response = await fetch(PROBE_URL, { cache: 'no-store', credentials: 'omit' });
    return response.ok;
  } catch {
    return false;
  }
}

export const connection = new ConnectionMonitor();
