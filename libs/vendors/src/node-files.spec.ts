import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalPreconditionError } from "./errors";
import { checkSocketPath, ensureTraversable, findExecutable, lookupSystemUser, writeFileAtomic } from "./node-files";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kne-files-"));
  await chmod(dir, 0o755);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("node files", () => {
  it("writes atomically, leaving no temporary files", async () => {
    const path = join(dir, "a.conf");
    await Promise.all([writeFileAtomic(path, "one\n"), writeFileAtomic(join(dir, "b.conf"), "two\n")]);
    await writeFileAtomic(path, "three\n");
    expect(await readFile(path, "utf8")).toBe("three\n");
    expect((await readdir(dir)).sort()).toEqual(["a.conf", "b.conf"]);
  });

  it("rejects socket paths the kernel cannot bind", () => {
    expect(() => checkSocketPath(`/tmp/${"x".repeat(100)}/bgpd.vty`, "r1")).toThrow(LocalPreconditionError);
    expect(() => checkSocketPath(`/tmp/${"x".repeat(100)}/bgpd.vty`, "r1")).toThrow(/more than the 107 a UNIX socket allows/);
    expect(() => checkSocketPath("/run/kne/t/r1/frr/run/zserv.api", "r1")).not.toThrow();
  });

  it("opens the node directory for traversal but not an ancestor it does not own", async () => {
    const nodeDir = join(dir, "node");
    await mkdir(join(nodeDir, "frr", "run"), { recursive: true, mode: 0o700 });
    await chmod(nodeDir, 0o700);
    await chmod(join(nodeDir, "frr"), 0o700);
    await ensureTraversable(join(nodeDir, "frr", "run"), nodeDir, "FRR");
    expect((await stat(nodeDir)).mode & 0o777).toBe(0o701);
    expect((await stat(join(nodeDir, "frr"))).mode & 0o777).toBe(0o701);

    await chmod(dir, 0o700);
    await expect(ensureTraversable(join(nodeDir, "frr", "run"), nodeDir, "FRR")).rejects.toThrow(/is not searchable by other users, so FRR/);
  });

  it("finds executables on PATH and system users", async () => {
    expect(await findExecutable("sh")).toMatch(/\/sh$/);
    expect(await findExecutable("no-such-binary-here")).toBeUndefined();
    expect(await lookupSystemUser("root")).toEqual({ name: "root", uid: 0, gid: 0 });
    expect(await lookupSystemUser("no-such-user-here")).toBeUndefined();
  });
});
