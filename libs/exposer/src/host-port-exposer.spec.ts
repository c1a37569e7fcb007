import { type AddressInfo, type Server, connect, createServer } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { topo } from "@kne/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostPortExposer } from "./host-port-exposer.ts";

/** Sends `text` through host:port and returns what comes back before the far end closes. */
function roundTrip(port: number, text: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.end(text));
    const chunks: Buffer[] = [];
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function refused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.on("connect", () => {
      s.destroy();
      resolve(undefined);
    });
    s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

const service = (fields: { name?: string; inside?: number; nodePort?: number }) => create(topo.ServiceSchema, fields);

describe("HostPortExposer", () => {
  let node: Server;
  let nodePort: number;
  let exposer: HostPortExposer;

  beforeEach(async () => {
    // Stands in for a node's service: an upper-casing echo on loopback.
    node = createServer((s) => s.on("data", (b: Buffer) => s.write(b.toString("utf8").toUpperCase())).on("end", () => s.end()));
    await new Promise<void>((r) => node.listen(0, "127.0.0.1", r));
    nodePort = (node.address() as AddressInfo).port;
    exposer = new HostPortExposer();
  });

  afterEach(async () => {
    await exposer.close();
    await new Promise((r) => node.close(r));
  });

  it("forwards a free loopback port to the node's service and keeps it while the service stays", async () => {
    const [endpoint] = await exposer.expose({ topology: "t", node: "r1", nodeAddress: "127.0.0.1", services: { 22: service({ name: "ssh", inside: nodePort }) }, hostPorts: true });
    expect(endpoint).toMatchObject({ node: "r1", outside: 22, inside: nodePort, hostAddress: "127.0.0.1" });
    expect(endpoint!.hostPort).toBeGreaterThan(0);
    expect(endpoint!.hostPort).not.toBe(nodePort);
    expect(await roundTrip(endpoint!.hostPort!, "hello through the forward")).toBe("HELLO THROUGH THE FORWARD");

    const again = await exposer.expose({ topology: "t", node: "r1", nodeAddress: "127.0.0.1", services: { 22: service({ name: "ssh", inside: nodePort }) }, hostPorts: true });
    expect(again[0]!.hostPort).toBe(endpoint!.hostPort);

    await exposer.unexpose("t");
    expect(exposer.list("t")).toEqual([]);
    expect(await refused(endpoint!.hostPort!)).toBe("ECONNREFUSED");
  });

  it("binds a requested node_port, and says which port is in use when it is taken", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const taken = (probe.address() as AddressInfo).port;
    try {
      const err = await exposer
        .expose({ topology: "t", node: "r1", nodeAddress: "127.0.0.1", services: { 9339: service({ name: "gnmi", inside: nodePort, nodePort: taken }) }, hostPorts: true })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
      expect((err as ConnectError).rawMessage).toContain(`node r1 service gnmi (9339): host port 127.0.0.1:${taken} is in use`);
      expect(exposer.list()).toEqual([]);
    } finally {
      await new Promise((r) => probe.close(r));
    }
    // The port is free now: asked for by number, it is the one bound.
    const [endpoint] = await exposer.expose({ topology: "t", node: "r1", nodeAddress: "127.0.0.1", services: { 9339: service({ inside: nodePort, nodePort: taken }) }, hostPorts: true });
    expect(endpoint!.hostPort).toBe(taken);
    expect(await roundTrip(taken, "x")).toBe("X");
  });

  it("reports the node's own address without host ports, and rejects bad input naming it", async () => {
    const [endpoint] = await exposer.expose({ topology: "t", node: "r1", nodeAddress: "198.19.0.5", services: { 22: service({ name: "ssh" }) }, hostPorts: false });
    expect(endpoint).toMatchObject({ nodeAddress: "198.19.0.5", inside: 22 });
    expect(endpoint!.hostPort).toBeUndefined();
    await expect(exposer.expose({ topology: "t", node: "r1", nodeAddress: "r1.local", services: {}, hostPorts: true })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: 'node r1: node_address "r1.local" is not an IP address',
    });
    expect(() => new HostPortExposer({ forwardAddress: "localhost" })).toThrow(/forward address "localhost" is not an IP address/);
  });
});
