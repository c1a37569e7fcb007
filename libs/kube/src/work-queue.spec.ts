import { describe, expect, it } from "vitest";
import type { Clock } from "./rate-limiter.ts";
import { TokenBucket } from "./rate-limiter.ts";
import { WorkQueue } from "./work-queue.ts";

/** Virtual time: sleeps resolve only when the test advances the clock past them. */
function fakeClock(): Clock & { advance(ms: number): Promise<void>; sleeping: number } {
  let now = 0;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    now: () => now,
    sleep: (ms) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    get sleeping() {
      return timers.length;
    },
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        await flush();
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        now = next.at;
        next.resolve();
      }
      now = end;
      await flush();
    },
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("WorkQueue", () => {
  it("dedupes waiting keys and runs a key added while in flight once more, never twice at once", async () => {
    const clock = fakeClock();
    const running = new Set<string>();
    const runs: string[] = [];
    let overlap = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(
      async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        runs.push(key);
        if (runs.length === 1) await gate;
        running.delete(key);
      },
      { concurrency: 1, clock },
    );
    q.add("a");
    await tick();
    q.add("a"); // in flight: marked dirty
    q.add("a");
    q.add("b");
    q.add("b"); // waiting: deduped
    await tick();
    expect(runs).toEqual(["a"]);
    release();
    await q.idle();
    expect(runs).toEqual(["a", "b", "a"]);
    expect(overlap).toBe(false);
  });

  it("retries failures with exponential backoff on the injected clock, and bounds concurrency", async () => {
    const clock = fakeClock();
    const attempts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const q = new WorkQueue(
      async (key) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick();
        active--;
        if (key === "flaky") {
          attempts.push(clock.now());
          if (attempts.length < 4) throw new Error("not yet");
        }
      },
      { concurrency: 2, baseDelayMs: 100, maxDelayMs: 250, clock },
    );
    for (const k of ["flaky", "x", "y", "z"]) q.add(k);
    await q.idle();
    expect(maxActive).toBe(2);
    expect(attempts).toEqual([0]);
    await clock.advance(1000);
    await q.idle();
    // 100, then 200, then capped at 250 ms after each failure.
    expect(attempts).toEqual([0, 100, 300, 550]);
  });

  it("requeues after the delay a pass asks for", async () => {
    const clock = fakeClock();
    const at: number[] = [];
    const q = new WorkQueue(async () => {
      at.push(clock.now());
      return at.length < 3 ? { requeueAfterMs: 500 } : undefined;
    }, { clock });
    q.add("k");
    await clock.advance(2000);
    expect(at).toEqual([0, 500, 1000]);
  });
});

describe("TokenBucket", () => {
  it("lets a burst through, then paces at the QPS", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, clock);
    const done: number[] = [];
    for (let i = 0; i < 6; i++) void bucket.take().then(() => done.push(clock.now()));
    await clock.advance(0);
    expect(done).toEqual([0, 0, 0]);
    await clock.advance(1000);
    expect(done).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it("rejects a nonsensical limit", () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow(/qps > 0/);
  });
});
