import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalPreconditionError } from "../errors";
import type { LocalNodeContext } from "../local-runtime";
import { hostVendor } from "./host";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kne-host-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(config: MessageInitShape<typeof topo.ConfigSchema> | undefined, bootConfig?: string): LocalNodeContext {
  return {
    topology: "t",
    node: create(topo.NodeSchema, { name: "vm-1", vendor: topo.Vendor.HOST, ...(config ? { config } : {}) }),
    netns: "kne.t.vm-1",
    nodeDir: dir,
    ...(bootConfig !== undefined ? { bootConfig: new TextEncoder().encode(bootConfig) } : {}),
    exec: async () => ({ code: 0, stdout: "", stderr: "" }),
    processes: { signal: async () => undefined, restart: async () => undefined },
  };
}

const host = hostVendor.local!;

describe("HOST runtime", () => {
  it("runs nothing for a plain host (upstream's host examples) and is ready at once", async () => {
    const ctx = context(undefined);
    await host.prepare(ctx);
    expect(host.processes(ctx)).toEqual([]);
    expect(host.sysctls(ctx)).toEqual({});
    expect(await host.ready(ctx)).toEqual({ ready: true });
    expect(host.pushConfig).toBeUndefined();
  });

  it("runs config.command with args and env", async () => {
    const ctx = context({ command: ["sleep"], args: ["1000"], env: { A: "b" } });
    await host.prepare(ctx);
    expect(host.processes(ctx)).toEqual([{ name: "sleep", argv: ["sleep", "1000"], env: { A: "b" } }]);
  });

  it("refuses a command that is not on this host", async () => {
    const ctx = context({ command: ["/usr/local/bin/no-such-thing"] });
    await expect(host.prepare(ctx)).rejects.toThrow(LocalPreconditionError);
    await expect(host.prepare(ctx)).rejects.toThrow(/command \/usr\/local\/bin\/no-such-thing is not on this host/);
  });

  it("puts a boot config in place and tells the command where", async () => {
    const ctx = context({ command: ["sleep"], args: ["1"], configFile: "app.conf" }, "hello\n");
    await host.prepare(ctx);
    const path = join(dir, "host", "app.conf");
    expect(await readFile(path, "utf8")).toBe("hello\n");
    expect(host.processes(ctx)[0]!.env).toEqual({ KNE_BOOT_CONFIG: path });
  });
});
