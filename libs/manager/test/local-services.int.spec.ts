// Host port forwards of node services on the local backend, for real: a TCP server runs
// inside a node's namespace (the node's own command), and a client on this host reaches
// it through the forwarded loopback port; `kne topology service`'s data (ListServices and
// the textproto form) reports the forwards; apply adds and removes forwards with nodes; a
// node_port asked for is the port bound, one in use fails create naming it; after delete
// the ports are closed and nothing remains.
import { existsSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { managerv1, topo } from "@kne/proto";
import { serializeTopology } from "@kne/topology";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, deleteQuietly, kernelLeftovers, processesUsing, startHarness, waitFor } from "./helpers.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log("local-services.int.spec: skipped: needs root (network namespaces, management network)");

/** The node's service: answers the first bytes it reads with its node's name, then closes. */
const listener = [
  "const net = require('node:net');",
  "net.createServer((s) => s.once('data', (d) => s.end(`node ${process.env.KNE_NODE} got ${d}`))).listen(8080, '0.0.0.0');",
].join(" ");

function hostNode(name: string, services: Record<number, Partial<Pick<topo.Service, "name" | "inside" | "nodePort">>>, command?: string[]): topo.Node {
  return create(topo.NodeSchema, {
    name,
    vendor: topo.Vendor.HOST,
    services: Object.fromEntries(Object.entries(services).map(([port, s]) => [port, create(topo.ServiceSchema, s)])),
    ...(command ? { config: { command } } : {}),
  });
}

/** Sends `text` to host:port: the answer until the far end closes, else `error ERRNO`. */
function ask(port: number, text: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => s.write(text));
    const chunks: Buffer[] = [];
    let failure: string | undefined;
    s.setTimeout(5000, () => s.destroy(new Error("timeout")));
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", (err: NodeJS.ErrnoException) => (failure = `error ${err.code ?? err.message}`));
    s.on("close", () => resolve(chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : (failure ?? "")));
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

describe.runIf(isRoot)("service host-port forwards (local backend)", () => {
  let h: Harness;
  const name = "svcfwd";

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await deleteQuietly(h, name);
    await deleteQuietly(h, "svcbusy");
    await h?.close();
  });

  it("forwards loopback ports to services inside the nodes, reports them, and closes them on delete", async () => {
    const fixed = await freePort();
    const topology = create(topo.TopologySchema, {
      name,
      nodes: [
        hostNode("srv", { 80: { name: "http", inside: 8080 }, 22: { name: "ssh", inside: 22 } }, [process.execPath, "-e", listener]),
        hostNode("quiet", { 9339: { name: "gnmi", inside: 57400, nodePort: fixed } }),
      ],
    });
    const started = Date.now();
    const created = await h.topology.createTopology({ topology, forwardServices: true }, { timeoutMs: 120_000 });
    const createMs = Date.now() - started;
    expect(created.status?.phase).toBe(managerv1.TopologyPhase.RUNNING);

    const { endpoints } = await h.topology.listServices({ topology: name });
    const byKey = new Map(endpoints.map((e) => [`${e.node}/${e.service?.outside}`, e]));
    expect([...byKey.keys()].sort()).toEqual(["quiet/9339", "srv/22", "srv/80"]);
    const http = byKey.get("srv/80")!;
    const srvAddress = created.status!.nodes.find((n) => n.name === "srv")!.managementAddress;
    // Reached directly at the management address on the inside port, and through the forward.
    expect([http.address, http.port]).toEqual([srvAddress, 8080]);
    expect(http.service?.outsideIp).toBe("127.0.0.1");
    const hostPort = http.service!.nodePort;
    expect(hostPort).toBeGreaterThan(1023);
    expect(byKey.get("quiet/9339")!.service?.nodePort).toBe(fixed);
    expect(new Set(endpoints.map((e) => e.service!.nodePort)).size).toBe(3);

    // The node's command may still be starting its listener when create returns (a HOST
    // node is ready once its namespace is): the first answer is waited for.
    const first = await waitFor("the node's listener through the forward", async () => {
      const t0 = performance.now();
      const answer = await ask(hostPort, "hello");
      return answer.startsWith("node ") ? { answer, ms: performance.now() - t0 } : undefined;
    }, 20_000, 100);
    expect(first.answer).toBe("node srv got hello");
    expect(await ask(8080, "direct", srvAddress)).toBe("node srv got direct");
    // Connect + request + answer + close, through the forward and (the same run) directly.
    const viaForward: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      let t0 = performance.now();
      expect(await ask(hostPort, `n${i}`)).toBe(`node srv got n${i}`);
      viaForward.push(performance.now() - t0);
      t0 = performance.now();
      expect(await ask(8080, `d${i}`, srvAddress)).toBe(`node srv got d${i}`);
      direct.push(performance.now() - t0);
    }
    const p50 = (xs: number[]): string => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2);
    console.log(`forward: create ${createMs} ms; connect+round trip p50 through the forward ${p50(viaForward)} ms, direct ${p50(direct)} ms`);
    // Nothing listens on 57400 in "quiet": the forward accepts, then closes the connection.
    expect(await ask(fixed, "anyone?")).toMatch(/^(error ECONNRESET)?$/);

    // Upstream's textproto form: outside_ip and node_port filled with the forward.
    const shown = await h.topology.getTopology({ name });
    const text = serializeTopology(shown.topology!, "textproto");
    expect(text).toContain(`node_port: ${hostPort}`);
    expect(text).toContain(`node_port: ${fixed}`);
    expect(text).toContain('outside_ip: "127.0.0.1"');
    expect(text).toContain(`inside_ip: "${srvAddress}"`);

    // Apply: an added node's services get forwards (the supervisor follows the topology),
    // a removed node's forwards close; the other ports stay as they were.
    const grown = create(topo.TopologySchema, { ...topology, nodes: [...topology.nodes, hostNode("extra", { 23: { name: "telnet", inside: 8080 } })] });
    await h.topology.updateTopology({ topology: grown }, { timeoutMs: 120_000 });
    const extraPort = await waitFor("a forward for the added node", async () => {
      const e = (await h.topology.listServices({ topology: name })).endpoints.find((x) => x.node === "extra");
      return e?.service?.nodePort || undefined;
    }, 20_000, 100);
    expect((await h.topology.listServices({ topology: name })).endpoints.find((e) => e.node === "srv" && e.service?.outside === 80)?.service?.nodePort).toBe(hostPort);
    await h.topology.updateTopology({ topology }, { timeoutMs: 120_000 });
    await waitFor("the removed node's forward to close", async () => ((await ask(extraPort, "x")) === "error ECONNREFUSED" ? true : undefined), 20_000, 100);
    expect(await ask(hostPort, "after apply")).toBe("node srv got after apply");

    const forwardsFile = `${h.stateDir}/topologies/${name}/forwards.json`;
    expect(existsSync(forwardsFile)).toBe(true);
    await h.topology.deleteTopology({ name }, { timeoutMs: 120_000 });
    for (const port of [hostPort, fixed, endpoints.find((e) => e.node === "srv" && e.service?.outside === 22)!.service!.nodePort]) {
      expect(await ask(port, "still there?")).toBe("error ECONNREFUSED");
    }
    expect(existsSync(forwardsFile)).toBe(false);
    expect(kernelLeftovers(name)).toEqual({ namespaces: [], ports: [] });
    expect(processesUsing(h.stateDir)).toEqual([]);
  }, 180_000);

  it("fails create naming a node_port that is in use, and rejects a forward address that is not an IP", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const err = await h.topology
        .createTopology({ topology: create(topo.TopologySchema, { name: "svcbusy", nodes: [hostNode("a", { 22: { name: "ssh", inside: 22, nodePort: port } })] }) }, { timeoutMs: 120_000 })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code).toBe(Code.FailedPrecondition);
      expect(err?.rawMessage).toContain(`node a service ssh (22): host port 127.0.0.1:${port} is in use`);
    } finally {
      await new Promise((r) => busy.close(r));
    }
    await h.topology.deleteTopology({ name: "svcbusy" }, { timeoutMs: 120_000 });
    expect(processesUsing(h.stateDir)).toEqual([]);

    const bad = await h.topology
      .createTopology({ topology: create(topo.TopologySchema, { name: "svcbad", nodes: [hostNode("a", { 22: { inside: 22 } })] }), forwardServices: true, forwardAddress: "localhost" })
      .then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(bad?.code).toBe(Code.InvalidArgument);
    expect(bad?.rawMessage).toContain('forward address "localhost" is not an IP address');
    expect(await h.topology.getTopology({ name: "svcbad" }).catch((e: unknown) => ConnectError.from(e).code)).toBe(Code.NotFound);
  }, 120_000);
});
