// What goes wrong: invalid topologies fail before anything is made; nodes that cannot
// start leave a clear status, and delete still removes everything.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { managerv1, topo } from "@kne/proto";
import { fieldViolationsOf } from "@kne/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, deleteQuietly, exampleRequest, kernelLeftovers, processesUsing, startHarness, waitFor } from "./helpers.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  if (h) {
    for (const name of ["fail-invalid", "fail-ceos", "fail-start", "host-3node", "cancel-frr"]) await deleteQuietly(h, name);
    await h.close();
  }
});

const node = (name: string, vendor: topo.Vendor, extra: { model?: string; config?: topo.Config } = {}) => create(topo.NodeSchema, { name, vendor, ...extra });

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConnectError);
  return e as ConnectError;
}

describe("failures", () => {
  it("refuses an invalid topology before anything is made", async () => {
    const err = await failure(
      h.topology.createTopology({
        topology: { name: "fail-invalid", nodes: [node("a", topo.Vendor.HOST), node("b", topo.Vendor.HOST)], links: [{ aNode: "a", aInt: "eth0", zNode: "c", zInt: "eth1" }] },
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(err).length).toBeGreaterThanOrEqual(2);
    expect(kernelLeftovers("fail-invalid")).toEqual({ namespaces: [], ports: [] });
    await expect(h.topology.getTopology({ name: "fail-invalid" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("refuses a vendor that needs the kubernetes backend, naming it, before anything is made", async () => {
    const err = await failure(h.topology.createTopology({ topology: { name: "fail-ceos", nodes: [node("r1", topo.Vendor.ARISTA, { model: "ceos" }), node("h1", topo.Vendor.HOST)] } }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/kubernetes/);
    expect(kernelLeftovers("fail-ceos")).toEqual({ namespaces: [], ports: [] });
  });

  it("reports nodes that cannot start per node, keeps the status, and delete removes everything", async () => {
    const crashing = node("crash", topo.Vendor.HOST, { config: create(topo.ConfigSchema, { command: ["/bin/sh"], args: ["-c", "echo giving up; exit 3"] }) });
    const badFrr = node("badfrr", topo.Vendor.FRR, {
      config: create(topo.ConfigSchema, { configData: { case: "data", value: new TextEncoder().encode("router bgp 65001\n neighbor 198.18.0.2 remote-as\n") } }),
    });
    const good = node("good", topo.Vendor.HOST);
    const started = Date.now();
    const err = await failure(
      h.topology.createTopology({
        topology: { name: "fail-start", nodes: [good, crashing, badFrr], links: [{ aNode: "good", aInt: "eth1", zNode: "crash", zInt: "eth1" }] },
        timeout: { seconds: 6n, nanos: 0 },
      }),
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect([Code.FailedPrecondition, Code.DeadlineExceeded]).toContain(err.code);
    expect(err.rawMessage).toContain("badfrr");

    const view = await h.topology.getTopology({ name: "fail-start" });
    expect(view.status?.phase).toBe(managerv1.TopologyPhase.ERROR);
    const byName = new Map(view.status!.nodes.map((n) => [n.name, n]));
    expect(byName.get("good")?.phase).not.toBe(managerv1.NodePhase.FAILED);
    expect(byName.get("badfrr")?.phase).toBe(managerv1.NodePhase.FAILED);
    expect(byName.get("badfrr")?.message).toMatch(/rejected|config/i);
    // The crashing command is restarted with backoff and never becomes ready; its output is kept.
    expect(byName.get("crash")?.phase).not.toBe(managerv1.NodePhase.READY);
    // The healthy node still comes up: one bad node does not stop the others.
    await waitFor(
      "good ready",
      async () => ((await h.topology.getTopology({ name: "fail-start" })).status!.nodes.find((n) => n.name === "good")?.phase === managerv1.NodePhase.READY ? true : undefined),
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const logs = new TextDecoder().decode((await h.node.getNodeLogs({ topology: "fail-start", node: "crash" })).logs);
    expect(logs).toContain("giving up");
    expect(logs).toContain("exited with code 3");
    expect((await h.topology.getTopology({ name: "fail-start" })).status!.nodes.find((n) => n.name === "crash")!.restarts).toBeGreaterThan(0);

    await h.topology.deleteTopology({ name: "fail-start" });
    expect(kernelLeftovers("fail-start")).toEqual({ namespaces: [], ports: [] });
    expect(processesUsing(h.stateDir)).toEqual([]);
  });

  it("deletes after a crash: supervisor killed and state lost, the kernel's ownership markers still lead to everything", async () => {
    const request = await exampleRequest("host-3node/topology.pb.txt");
    await h.topology.createTopology(request);
    const state = JSON.parse(await readFile(join(h.stateDir, "topologies", "host-3node", "state.json"), "utf8")) as { supervisor: { pid: number } };
    process.kill(state.supervisor.pid, "SIGKILL");
    await rm(join(h.stateDir, "topologies", "host-3node"), { recursive: true, force: true });
    expect(kernelLeftovers("host-3node").namespaces).toHaveLength(3);
    await h.topology.deleteTopology({ name: "host-3node" });
    expect(kernelLeftovers("host-3node")).toEqual({ namespaces: [], ports: [] });
    expect(processesUsing(h.stateDir)).toEqual([]);
  });

  it("stops waiting when the caller cancels a create: the topology stays as made, with a status saying so, and delete removes it", async () => {
    const request = await exampleRequest("frr-2node-ebgp/topology.pb.txt");
    request.topology.name = "cancel-frr";
    const abort = new AbortController();
    // FRR nodes take a second or more to answer on vty: the cancel lands while create waits.
    setTimeout(() => abort.abort(), 300);
    const err = await failure(h.topology.createTopology(request, { signal: abort.signal }));
    expect(err.code).toBe(Code.Canceled);
    const stopped = await waitFor("the create to stop on the cancel", async () => {
      const view = await h.topology.getTopology({ name: "cancel-frr" });
      return view.status!.phase === managerv1.TopologyPhase.ERROR ? view.status! : undefined;
    }, 15_000);
    expect(stopped.conditions.find((c) => c.type === "Ready")?.message).toMatch(/cancelled/);
    await h.topology.deleteTopology({ name: "cancel-frr" });
    expect(kernelLeftovers("cancel-frr")).toEqual({ namespaces: [], ports: [] });
  });

  it("answers NOT_FOUND for what does not exist", async () => {
    await expect(h.topology.deleteTopology({ name: "no-such-topology" })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(h.link.listLinks({ topology: "no-such-topology" })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(h.node.execCommand({ topology: "no-such-topology", node: "x", command: ["true"] })).rejects.toMatchObject({ code: Code.NotFound });
  });
});
