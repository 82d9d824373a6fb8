/**
 * Delete with a way back: deleted tasks disappear at once, but the request is sent only when the undo window
 * closes (or the page is left). Undo within the window simply cancels it, so the tasks keep their ids and
 * timestamps. An item is one user action: one task, a selection (sent as one bulk delete), or "clear completed".
 */
export class PendingDeletes<T> {
  private readonly timers = new Map<T, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly commit: (item: T) => void,
    private readonly windowMs = 6000,
  ) {}

  schedule(item: T): void {
    this.cancel(item);
    this.timers.set(
      item,
      setTimeout(() => {
        this.timers.delete(item);
        this.commit(item);
      }, this.windowMs),
    );
  }

  /** True when there was a pending delete to undo. */
  cancel(item: T): boolean {
    const timer = this.timers.get(item);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(item);
    return true;
  }

  has(item: T): boolean {
    return this.timers.has(item);
  }

  /**
   * Stops every pending delete and returns them, for the caller to send in a way that survives the page being
   * left (the normal commit path would be cut off with it).
   */
  flush(): T[] {
    const items = [...this.timers.keys()];
    for (const item of items) clearTimeout(this.timers.get(item));
    this.timers.clear();
    return items;
  }
}
