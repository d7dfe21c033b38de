/** At most `size` pieces of work at a time, the rest queued in order: stacks sized for 2 cores. */
export class Slots {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`slots: a whole number of at least 1, not ${size}`);
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    const done = (async () => {
      // A freed slot passes straight to the next in the queue, so a newcomer cannot take it first.
      if (this.running >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve));
      else this.running += 1;
      try {
        return await work();
      } finally {
        const next = this.queue.shift();
        if (next) next();
        else this.running -= 1;
      }
    })();
    this.pending.add(done);
    void done.catch(() => undefined).finally(() => this.pending.delete(done));
    return done;
  }

  /** Resolves when no work is running or queued, whatever its outcome. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
