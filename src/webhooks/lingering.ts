// Holders that caught up with the log wait here a little for more events of their
// application before giving their endpoint up, so a busy endpoint costs no claim and release
// per event. Wake-ups count up an epoch; a holder notes the epoch before it reads the end of
// the log and waits only if nothing came since, so a wake-up that arrives between its read
// and its wait is not lost.
export class Lingering {
  private readonly waiting = new Map<string, Set<() => void>>();
  private current = 0;
  private readonly readAt = new Map<string, number>();
  private wokenAt = 0;

  /** The epoch to note before reading the end of the log. */
  get epoch(): number {
    return this.current;
  }

  /** Events of these applications were read: their holders read on. */
  eventsRead(applicationIds: Iterable<string>): void {
    const ids = [...applicationIds];
    this.current++;
    for (const id of ids) this.readAt.set(id, this.current);
    for (const id of ids) this.release(id);
  }

  /** Something changed for every holder (a webhook was updated, resumed, paused; the stop). */
  wakeAll(): void {
    this.wokenAt = ++this.current;
    for (const id of [...this.waiting.keys()]) this.release(id);
  }

  /** Waits for events of the application, a general wake-up, or `ms`, unless one came after `epoch` already. */
  wait(applicationId: string, epoch: number, ms: number): Promise<void> {
    if (this.wokenAt > epoch || (this.readAt.get(applicationId) ?? 0) > epoch) return Promise.resolve();
    return new Promise((resolve) => {
      let waiters = this.waiting.get(applicationId);
      if (!waiters) this.waiting.set(applicationId, (waiters = new Set()));
      const done = () => {
        clearTimeout(timer);
        waiters!.delete(done);
        if (waiters!.size === 0 && this.waiting.get(applicationId) === waiters) this.waiting.delete(applicationId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  private release(applicationId: string): void {
    for (const done of [...(this.waiting.get(applicationId) ?? [])]) done();
  }
}
