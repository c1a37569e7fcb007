import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SERVER_LOCK_OWNER, acquireLock, readJson, resolveStateDir, writeJsonAtomic } from "./state-store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kne-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("state store", () => {
  it("resolves the state dir from the option, then KNE_STATE_DIR, then /var/lib/kne", () => {
    const saved = process.env["KNE_STATE_DIR"];
    process.env["KNE_STATE_DIR"] = "/tmp/x";
    expect(resolveStateDir("/opt/y")).toBe("/opt/y");
    expect(resolveStateDir()).toBe("/tmp/x");
    delete process.env["KNE_STATE_DIR"];
    expect(resolveStateDir()).toBe("/var/lib/kne");
    if (saved !== undefined) process.env["KNE_STATE_DIR"] = saved;
  });

  it("writes JSON atomically and reads it back (undefined when absent)", async () => {
    await writeJsonAtomic(join(dir, "a", "b.json"), { x: 1 });
    expect(await readJson(join(dir, "a", "b.json"))).toEqual({ x: 1 });
    expect(await readJson(join(dir, "missing.json"))).toBeUndefined();
  });

  it("lets one holder at a time take the lock, and takes over a dead holder's", async () => {
    const first = await acquireLock(dir, "first");
    await expect(acquireLock(dir, "second", 200)).rejects.toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining("(first)") });
    await first.release();
    const second = await acquireLock(dir, "second", 200);
    await second.release();

    // A holder that died: its lock file names a process that no longer runs.
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => child.on("exit", r));
    await writeJsonAtomic(join(dir, "lock"), { pid: child.pid, startTime: 1, what: "crashed" });
    const third = await acquireLock(dir, "third", 200);
    expect(JSON.parse(await readFile(join(dir, "lock"), "utf8"))).toMatchObject({ pid: process.pid, what: "third" });
    await third.release();
  });

  it("tells in-process users to talk to a server that holds the lock", async () => {
    const server = await acquireLock(dir, SERVER_LOCK_OWNER);
    await expect(acquireLock(dir, "create lab", 60_000)).rejects.toMatchObject({ code: "FAILED_PRECONDITION", message: expect.stringContaining("--server") });
    await server.release();
  });
});
