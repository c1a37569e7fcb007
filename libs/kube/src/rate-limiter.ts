/**
 * Client-side rate limiting of API requests: a token bucket (QPS, burst) like client-go's
 * default limiter, so that a 1,000-node create does not flood the API server and gets
 * throttled (429) instead of queued. The clock is injected for tests.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface RateLimit {
  qps: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Requests waiting: each one takes the next token, in arrival order. */
  private reserved = 0;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) throw new Error(`rate limit needs qps > 0 and burst >= 1, got qps=${limit.qps} burst=${limit.burst}`);
    this.tokens = limit.burst;
    this.last = clock.now();
  }

  /** Milliseconds the next caller would wait (0 when a token is free). */
  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.qps);
    this.last = now;
  }

  /** Resolves when the caller may send one request. */
  async take(): Promise<void> {
    this.refill();
    // Reserve a token now (possibly going negative) so that concurrent callers queue fairly.
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.limit.qps) * 1000;
    this.reserved++;
    try {
      await this.clock.sleep(waitMs);
    } finally {
      this.reserved--;
    }
  }

  get waiting(): number {
    return this.reserved;
  }
}
