/**
 * Work serialized per key (a topology): one job at a time per key, in arrival order; jobs of
 * different keys run concurrently. A failed job does not stop the ones behind it.
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every job queued so far for `key` (or for every key) has finished. */
  async idle(key?: string): Promise<void> {
    if (key !== undefined) {
      await this.tails.get(key);
      return;
    }
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  /** Keys with queued or running work. */
  busyKeys(): string[] {
    return [...this.tails.keys()];
  }
}
