import { describe, expect, it } from "vitest";
import { KeyedSerialQueue } from "./serial-queue.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("KeyedSerialQueue", () => {
  it("runs jobs of one key one at a time in order, and different keys concurrently", async () => {
    const q = new KeyedSerialQueue();
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await tick(ms);
      log.push(`${name}-`);
      return name;
    };
    const results = await Promise.all([q.run("a", job("a1", 20)), q.run("a", job("a2", 1)), q.run("b", job("b1", 5))]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    expect(log.indexOf("a2+")).toBeGreaterThan(log.indexOf("a1-"));
    expect(log.indexOf("b1+")).toBeLessThan(log.indexOf("a1-"));
  });

  it("keeps going after a failed job, and reports idleness", async () => {
    const q = new KeyedSerialQueue();
    const failed = q.run("a", async () => {
      throw new Error("boom");
    });
    const next = q.run("a", async () => "ok");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ok");
    await q.idle();
    expect(q.busyKeys()).toEqual([]);
  });
});
