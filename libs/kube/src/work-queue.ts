/**
 * A key-based work queue for reconcilers (controller-runtime's, reduced): adding a key that
 * is already waiting does nothing; a key is never processed by two workers at once (added
 * while in flight, it runs once more afterwards); failures retry with exponential backoff;
 * at most `concurrency` keys run at a time. The clock is injected for tests.
 */
import { systemClock, type Clock } from "./rate-limiter.ts";

export interface ReconcileResult {
  /** Run this key again after so many milliseconds (a deadline to check, say). */
  requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
  onError?: (key: string, err: unknown, attempt: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** Keys added while in flight: they run again when the current pass ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; cancel: () => void }>();
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly clock: Clock;

  constructor(
    private readonly process: (key: string) => Promise<ReconcileResult | void>,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.clock = options.clock ?? systemClock;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const at = this.clock.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    let cancelled = false;
    this.timers.set(key, { at, cancel: () => (cancelled = true) });
    void this.clock.sleep(delayMs).then(() => {
      if (cancelled) return;
      this.timers.delete(key);
      this.add(key);
    });
  }

  /** Keys waiting or running. */
  get length(): number {
    return this.queue.length + this.active;
  }

  /** Resolves when nothing waits or runs (delayed keys not counted). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency) {
      const index = this.queue.findIndex((k) => !this.inFlight.has(k));
      if (index < 0) break;
      const [key] = this.queue.splice(index, 1) as [string];
      this.queued.delete(key);
      this.inFlight.add(key);
      this.active++;
      void this.runOne(key);
    }
    if (this.queue.length === 0 && this.active === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async runOne(key: string): Promise<void> {
    let retryAfter: number | undefined;
    try {
      const result = await this.process(key);
      this.failures.delete(key);
      retryAfter = result?.requeueAfterMs;
    } catch (err) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      this.options.onError?.(key, err, attempt);
      retryAfter = Math.min(this.options.maxDelayMs ?? 30_000, (this.options.baseDelayMs ?? 50) * 2 ** (attempt - 1));
    } finally {
      this.inFlight.delete(key);
      this.active--;
    }
    if (this.dirty.delete(key)) this.add(key);
    else if (retryAfter !== undefined) this.addAfter(key, retryAfter);
    this.pump();
  }
}
