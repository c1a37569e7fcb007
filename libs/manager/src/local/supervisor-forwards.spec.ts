import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { ManagerError } from "../errors.ts";
import { applyForwards, resolveForwarding, servicesToForward, wantsForwards } from "./supervisor-forwards.ts";

const node = (name: string, vendor: topo.Vendor, services: Record<number, { inside: number; nodePort?: number }> = {}) =>
  create(topo.NodeSchema, { name, vendor, ...(vendor === topo.Vendor.ARISTA ? { model: "ceos" } : {}), services: Object.fromEntries(Object.entries(services).map(([k, s]) => [k, create(topo.ServiceSchema, s)])) });

describe("service forwards: what is forwarded", () => {
  it("forwards every service with --forward-services (the vendor's defaults too), else only those with a node_port", () => {
    const ceos = node("r1", topo.Vendor.ARISTA);
    expect(Object.keys(servicesToForward(ceos, { all: true, address: "127.0.0.1" })).sort()).toEqual(["22", "443", "6030", "9340", "9559"]);
    expect(servicesToForward(ceos, { all: false, address: "127.0.0.1" })).toEqual({});
    const h = node("h1", topo.Vendor.HOST, { 22: { inside: 22 }, 80: { inside: 8080, nodePort: 30080 } });
    expect(Object.keys(servicesToForward(h, undefined))).toEqual(["80"]);
    const spec = create(topo.TopologySchema, { name: "t", nodes: [ceos] });
    expect(wantsForwards(spec, undefined)).toBe(false);
    expect(wantsForwards(spec, { all: true, address: "127.0.0.1" })).toBe(true);
  });

  it("defaults to loopback and rejects an address that is not an IP, naming the field", () => {
    expect(resolveForwarding(undefined)).toEqual({ all: false, address: "127.0.0.1" });
    expect(resolveForwarding({ all: true, address: " ::1 " })).toEqual({ all: true, address: "::1" });
    let err: unknown;
    try {
      resolveForwarding({ all: true, address: "lo" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManagerError);
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", violations: [{ field: "forward_address" }] });
  });

  it("reports a bound forward as the service's outside_ip and node_port", () => {
    const h = node("h1", topo.Vendor.HOST, { 22: { inside: 22 } });
    applyForwards(h, [
      { node: "h1", outside: 22, names: ["ssh"], nodeAddress: "198.19.0.2", inside: 22, hostAddress: "127.0.0.1", hostPort: 40022 },
      { node: "h2", outside: 22, names: [], nodeAddress: "198.19.0.3", inside: 22, hostAddress: "127.0.0.1", hostPort: 40023 },
    ]);
    expect(h.services[22]).toMatchObject({ outsideIp: "127.0.0.1", nodePort: 40022 });
  });
});
