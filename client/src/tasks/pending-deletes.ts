/**
 * Delete with a way back: a deleted task disappears at once, but the DELETE is sent only when the undo
 * window closes (or the page is left). Undo within the window simply cancels it, so the task keeps its id
 * and timestamps.
 */
export class PendingDeletes {
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly commit: (id: number) => void,
    private readonly windowMs = 6000,
  ) {}

  schedule(id: number): void {
    this.cancel(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.commit(id);
      }, this.windowMs),
    );
  }

  /** True when there was a pending delete to undo. */
  cancel(id: number): boolean {
    const timer = this.timers.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(id);
    return true;
  }

  has(id: number): boolean {
    return this.timers.has(id);
  }

  /**
   * Stops every pending delete and returns their ids, for the caller to send in a way that survives the page
   * being left (the normal commit path would be cut off with it).
   */
  flushIds(): number[] {
    const ids = [...this.timers.keys()];
    for (const id of ids) clearTimeout(this.timers.get(id));
    this.timers.clear();
    return ids;
  }
}
