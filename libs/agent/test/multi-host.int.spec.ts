// Three hosts on one machine, for real: each host is a network namespace with its own
// underlay address (198.18.0.1-3 on a bridge in a separate underlay namespace) and its OWN
// agent process, started inside it with `nsenter --net` (the mount namespace stays shared,
// so the node namespaces an agent adds under /run/netns are visible to all, like on a real
// host; `ip netns exec` would hide them in a private mount namespace that dies with the
// agent). The agents listen on 0.0.0.0:50052 in their host namespace: each other over the
// underlay (PrepareTunnel), the test over a management veth per host (198.18.1.0/24).
// Nothing is routed out of the machine. Because the three agents share one kernel's
// /run/netns, they run with --namespace-scope listed.
//
// r1@h1 —vxlan— r2@h2 —vxlan— r3@h3 —vxlan— r1@h1, and r1 —veth— r4 on h1.
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { nodeNetnsName } from "@kne/dataplane";
import { agentv1 } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  canRun,
  cleanupAll,
  fixtureNamespace,
  fixtureTag,
  interfacesOf,
  ip,
  ping,
  startAgentProcess,
  tempStateDir,
  topologyNamespaces,
  uniqueTopology,
} from "./helpers.ts";

const PORT = 50052;

interface Host {
  name: string;
  netns: string;
  underlay: string;
  mgmt: string;
  stateDir: string;
  agent?: AgentProcess;
  client?: Client<typeof agentv1.AgentService>;
}

function remote(node: string, iface: string, host: Host, withUnderlay = true) {
  return { node, interface: iface, agentAddress: `${host.underlay}:${PORT}`, underlayAddress: withUnderlay ? host.underlay : "" };
}

describe.skipIf(!canRun)("multi-host: three hosts, three agent processes, VXLAN between them", () => {
  const t = uniqueTopology("mh");
  const hosts: Host[] = [];
  const [r1, r2, r3, r4] = ["r1", "r2", "r3", "r4"].map((n) => nodeNetnsName(t, n)) as [string, string, string, string];

  async function startAgent(h: Host): Promise<void> {
    h.agent = await startAgentProcess(
      ["--port", String(PORT), "--host", "0.0.0.0", "--state-dir", h.stateDir, "--underlay-address", h.underlay, "--namespace-scope", "listed", "--log-level", "debug", "--resync-interval", "2000"],
      { netns: h.netns },
    );
    h.client = createClient(agentv1.AgentService, createGrpcTransport({ baseUrl: `http://${h.mgmt}:${PORT}` }));
  }

  beforeAll(async () => {
    const underlay = await fixtureNamespace(`${fixtureTag}-ul`);
    await ip(underlay, ["link", "add", "name", "br0", "type", "bridge"]);
    await ip(underlay, ["link", "set", "dev", "br0", "up"]);
    for (let i = 1; i <= 3; i++) {
      const netns = await fixtureNamespace(`${fixtureTag}-h${i}`);
      const h: Host = { name: `h${i}`, netns, underlay: `198.18.0.${i}`, mgmt: `198.18.1.${4 * i + 2}`, stateDir: await tempStateDir(`h${i}`) };
      // Underlay: host ul0 <-> bridge port in the underlay namespace.
      await ip(underlay, ["link", "add", "name", `p${i}`, "type", "veth", "peer", "name", "ul0", "netns", netns]);
      await ip(underlay, ["link", "set", "dev", `p${i}`, "master", "br0", "up"]);
      await ip(netns, ["addr", "add", `${h.underlay}/24`, "dev", "ul0"]);
      await ip(netns, ["link", "set", "dev", "ul0", "up"]);
      // Management: a /30 between the root namespace (where the test runs) and the host.
      const rootEnd = `kta${fixtureTag}m${i}`;
      await ip("", ["link", "add", "name", rootEnd, "type", "veth", "peer", "name", "mg0", "netns", netns]);
      await ip("", ["addr", "add", `198.18.1.${4 * i + 1}/30`, "dev", rootEnd]);
      await ip("", ["link", "set", "dev", rootEnd, "up"]);
      await ip(netns, ["addr", "add", `${h.mgmt}/30`, "dev", "mg0"]);
      await ip(netns, ["link", "set", "dev", "mg0", "up"]);
      hosts.push(h);
    }
    await Promise.all(hosts.map((h) => startAgent(h)));
  });

  afterAll(async () => {
    await cleanupAll(); // kills the agents started here (by pid), deletes namespaces (the hosts' too)
  });

  function requestFor(h: Host): agentv1.ApplyWiresRequest {
    const [h1, h2, h3] = hosts as [Host, Host, Host];
    const byHost: Record<string, MessageInitShape<typeof agentv1.ApplyWiresRequestSchema>> = {
      h1: {
        namespaces: [{ node: "r1", create: true }, { node: "r4", create: true }],
        wires: [
          { uid: 12n, a: { node: "r1", interface: "eth1", addresses: ["203.0.113.1/30"] }, peer: { case: "remote", value: remote("r2", "eth1", h2) } },
          { uid: 31n, a: { node: "r1", interface: "eth2", addresses: ["203.0.113.10/30"] }, peer: { case: "remote", value: remote("r3", "eth2", h3) } },
          { uid: 14n, a: { node: "r1", interface: "eth3", addresses: ["203.0.113.13/30"] }, peer: { case: "z", value: { node: "r4", interface: "eth1", addresses: ["203.0.113.14/30"] } } },
        ],
      },
      h2: {
        namespaces: [{ node: "r2", create: true }],
        wires: [
          { uid: 12n, a: { node: "r2", interface: "eth1", addresses: ["203.0.113.2/30"] }, peer: { case: "remote", value: remote("r1", "eth1", h1) } },
          // No underlay address for h3 here: h2 learns it from h3's PrepareTunnel answer.
          { uid: 23n, a: { node: "r2", interface: "eth2", addresses: ["203.0.113.5/30"] }, peer: { case: "remote", value: remote("r3", "eth1", h3, false) } },
        ],
      },
      h3: {
        namespaces: [{ node: "r3", create: true }],
        wires: [
          { uid: 23n, a: { node: "r3", interface: "eth1", addresses: ["203.0.113.6/30"] }, peer: { case: "remote", value: remote("r2", "eth2", h2) } },
          { uid: 31n, a: { node: "r3", interface: "eth2", addresses: ["203.0.113.9/30"] }, peer: { case: "remote", value: remote("r1", "eth2", h1) } },
        ],
      },
    };
    return create(agentv1.ApplyWiresRequestSchema, { topology: t, generation: 1n, ...byHost[h.name] });
  }

  async function expectExactInterfaces(): Promise<void> {
    expect(await topologyNamespaces(t)).toEqual([r1, r2, r3, r4].sort());
    const want: Record<string, string[]> = { [r1]: ["eth1", "eth2", "eth3", "lo"], [r2]: ["eth1", "eth2", "lo"], [r3]: ["eth1", "eth2", "lo"], [r4]: ["eth1", "lo"] };
    for (const [netns, names] of Object.entries(want)) {
      const ifs = await interfacesOf(netns);
      expect([...ifs.keys()].sort(), netns).toEqual(names);
      for (const n of names.filter((x) => x !== "lo")) expect(ifs.get(n)?.alias, `${netns}/${n}`).toMatch(new RegExp(`^kne:${t}:`));
    }
    // The underlay sockets live in the hosts; nothing of ours is left there as a device.
    for (const h of hosts) expect([...(await interfacesOf(h.netns)).keys()].sort()).toEqual(["lo", "mg0", "ul0"]);
  }

  async function pingAll(): Promise<void> {
    for (const [from, to, what] of [
      [r1, "203.0.113.2", "h1->h2 vxlan"],
      [r2, "203.0.113.6", "h2->h3 vxlan (learned underlay)"],
      [r3, "203.0.113.10", "h3->h1 vxlan"],
      [r1, "203.0.113.14", "h1 veth"],
    ] as const) {
      const p = await ping(from, to);
      expect(p.received, `${what}: ${p.output}`).toBe(3);
    }
  }

  it("converges every host's side, the agents preparing each other's tunnels, and carries ping", async () => {
    const results = await Promise.all(hosts.map((h) => h.client!.applyWires(requestFor(h))));
    expect(results.map((r) => r.observedGeneration)).toEqual([1n, 1n, 1n]);
    await expectExactInterfaces();
    const vxlan = await interfacesOf(r2);
    expect(vxlan.get("eth2")?.kind).toBe("vxlan");
    await pingAll();
    // Each agent reports only its own endpoints.
    expect((await hosts[1]!.client!.getInterfaces({ topology: t })).interfaces.map((i) => `${i.node}/${i.interface}`).sort()).toEqual(["r2/eth1", "r2/eth2"]);
  });

  it("kill -9 of one host's agent keeps its wires; restarted, it converges without duplicates", async () => {
    const h2 = hosts[1]!;
    expect(await h2.agent!.kill("SIGKILL")).toBe(-1);
    await pingAll(); // the kernel keeps the wires while no agent runs
    await startAgent(h2);
    await h2.agent!.waitForLine((l) => (l["msg"] === "topology checked" || l["msg"] === "topology converged") && l["topology"] === t);
    await h2.agent!.waitForLine((l) => l["msg"] === "peer agents prepared tunnels" && l["topology"] === t);
    const first = h2.agent!.lines.find((l) => (l["msg"] === "topology checked" || l["msg"] === "topology converged") && l["topology"] === t)!;
    expect(first["operations"], "nothing to redo after the restart").toBe(0);
    await expectExactInterfaces();
    await pingAll();
    // Re-applying the same generation is a no-op on every host.
    const again = await Promise.all(hosts.map((h) => h.client!.applyWires(requestFor(h))));
    expect(again.map((r) => r.created)).toEqual([0, 0, 0]);
    await expectExactInterfaces();
  });

  it("deletes the topology host by host: each agent removes only its own namespaces", async () => {
    const [h1, h2, h3] = hosts as [Host, Host, Host];
    await h2.client!.deleteTopology({ topology: t });
    expect(await topologyNamespaces(t)).toEqual([r1, r3, r4].sort());
    await h1.client!.deleteTopology({ topology: t });
    await h3.client!.deleteTopology({ topology: t });
    expect(await topologyNamespaces(t)).toEqual([]);
    for (const h of hosts) expect([...(await interfacesOf(h.netns)).keys()].sort()).toEqual(["lo", "mg0", "ul0"]);
    for (const h of hosts) expect(await h.agent!.kill("SIGTERM")).toBe(0);
  });
});
