import { describe, expect, it } from "vitest";
import { execHost, nsenterExec, pollUntil, withNodeLock } from "./node-exec";

describe("execHost", () => {
  it("reports exit codes and output without throwing", async () => {
    expect(await execHost(["sh", "-c", "echo out; echo err >&2; exit 3"])).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
    expect((await execHost(["true"])).code).toBe(0);
  });

  it("kills a command at its timeout", async () => {
    const r = await execHost(["sleep", "5"], { timeoutMs: 100 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/killed/);
  });

  it("rejects when the program does not exist", async () => {
    await expect(execHost(["/no/such/binary"])).rejects.toThrow(/ENOENT/);
  });
});

describe("nsenterExec", () => {
  it("refuses namespace names that could escape /var/run/netns", () => {
    expect(() => nsenterExec("../etc")).toThrow(/invalid network namespace name/);
    expect(() => nsenterExec("..")).toThrow();
    expect(() => nsenterExec("kne.t.r1")).not.toThrow();
  });
});

describe("withNodeLock", () => {
  it("runs calls with the same key one after another, even after a failure", async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number, fail = false) =>
      withNodeLock("k", async () => {
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([slow("a", 30, true), slow("b", 5), withNodeLock("other", async () => order.push("other"))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
    expect(order.filter((o) => o !== "other")).toEqual(["start a", "end a", "start b", "end b"]);
    expect(order.indexOf("other")).toBeLessThan(order.indexOf("end a"));
  });
});

describe("pollUntil", () => {
  it("returns the first value or undefined at the deadline", async () => {
    let n = 0;
    expect(await pollUntil(async () => (++n >= 3 ? n : undefined), 1000, 1)).toBe(3);
    expect(await pollUntil(async () => undefined, 30, 5)).toBeUndefined();
  });
});
