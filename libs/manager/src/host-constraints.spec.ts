import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { managerv1, topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import type { RuntimeBackend } from "./backend.ts";
import { ManagerError } from "./errors.ts";
import { checkHostConstraints, readProcSys } from "./host-constraints.ts";
import { createManagerServices, registerManagerServices } from "./services.ts";

function nodeWith(name: string, param: string, minValue: bigint, maxValue = 0n): topo.Node {
  return create(topo.NodeSchema, {
    name,
    vendor: topo.Vendor.HOST,
    hostConstraints: [{ constraint: { case: "kernelConstraint", value: { name: param, ConstraintType: { case: "boundedInteger", value: { minValue, maxValue } } } } }],
  });
}

const fakeKernel = (values: Record<string, string>) => async (name: string) => values[name];

describe("host constraints", () => {
  it("passes when every bound holds, and names each node, parameter, value and bound that does not", async () => {
    const kernel = fakeKernel({ "fs.inotify.max_user_instances": "128", "net.ipv4.ip_local_port_range": "32768\t60999" });
    const ok = create(topo.TopologySchema, { name: "t", nodes: [nodeWith("r1", "fs.inotify.max_user_instances", 64n, 128n), nodeWith("r2", "net.ipv4.ip_local_port_range", 1024n)] });
    await expect(checkHostConstraints(ok, kernel)).resolves.toBeUndefined();

    const bad = create(topo.TopologySchema, {
      name: "t",
      nodes: [nodeWith("r1", "fs.inotify.max_user_instances", 64000n), nodeWith("r2", "fs.inotify.max_user_instances", 0n, 100n), nodeWith("r3", "kernel.no_such_knob", 1n)],
    });
    const err = (await checkHostConstraints(bad, kernel).catch((e: unknown) => e)) as ManagerError;
    expect(err).toBeInstanceOf(ManagerError);
    expect(err.code).toBe("FAILED_PRECONDITION");
    expect(err.message).toContain("3 host constraints");
    expect(err.message).toContain("node r1 needs fs.inotify.max_user_instances ≥ 64000; this host has 128 (sysctl -w fs.inotify.max_user_instances=64000)");
    expect(err.message).toContain("node r2 needs fs.inotify.max_user_instances ≤ 100; this host has 128");
    expect(err.message).toContain("node r3 needs kernel parameter kernel.no_such_knob, which this host's kernel does not have");
    expect(err.violations.map((v) => v.field)).toEqual(["topology.nodes[r1].host_constraints[0]", "topology.nodes[r2].host_constraints[0]", "topology.nodes[r3].host_constraints[0]"]);
  });

  it("reads this host's /proc/sys", async () => {
    const actual = BigInt(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim());
    expect(await readProcSys("kernel.pid_max")).toBe(String(actual));
    expect(await readProcSys("kernel.no_such_knob")).toBeUndefined();
    await expect(checkHostConstraints(create(topo.TopologySchema, { name: "t", nodes: [nodeWith("r1", "kernel.pid_max", actual, actual)] }))).resolves.toBeUndefined();
    await expect(checkHostConstraints(create(topo.TopologySchema, { name: "t", nodes: [nodeWith("r1", "kernel.pid_max", actual + 1n)] }))).rejects.toThrow(/kernel\.pid_max ≥/);
  });

  it("is checked by CreateTopology before the backend is called: FAILED_PRECONDITION", async () => {
    const calls: string[] = [];
    const backend = { name: "fake", createTopology: async () => { calls.push("create"); throw new Error("not reached"); } } as unknown as RuntimeBackend;
    const services = createManagerServices(backend, { readSysctl: fakeKernel({ "fs.inotify.max_user_instances": "128" }) });
    const api = createClient(managerv1.TopologyService, createRouterTransport((router) => registerManagerServices(router, services)));
    const err = (await api.createTopology({ topology: { name: "t", nodes: [nodeWith("r1", "fs.inotify.max_user_instances", 64000n)] } }).catch((e: unknown) => e)) as ConnectError;
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("node r1 needs fs.inotify.max_user_instances ≥ 64000");
    expect(calls).toEqual([]);
    services.watchHub.close();
  });
});
