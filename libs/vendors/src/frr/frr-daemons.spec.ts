import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import type { LocalNodeContext } from "../local-runtime";
import { frrVendor, frrDaemonsOf, stripRunningConfigPreamble } from "./frr";
import { daemonsForConfig, frrDaemonSet, parseDaemonList } from "./frr-daemons";

const bgpOspf = `
frr defaults traditional
hostname r1
!
interface eth1
 ip address 198.18.0.1/24
 ip ospf area 0
 ip ospf bfd
exit
!
ip route 10.0.0.0/8 Null0
!
router bgp 65001
 neighbor 198.18.0.2 remote-as 65002
 address-family ipv4 unicast
  network 10.0.0.0/8
 exit-address-family
exit
!
router ospf6
exit
!
segment-routing
 srv6
 exit
exit
`;

describe("daemonsForConfig", () => {
  it("finds the daemons whose commands appear", () => {
    expect(daemonsForConfig(bgpOspf)).toEqual(["bgpd", "ospfd", "ospf6d", "bfdd"]);
  });

  it("tells ospf from ospf6, rip from ripng, and ignores comments", () => {
    expect(daemonsForConfig("router ospf\n")).toEqual(["ospfd"]);
    expect(daemonsForConfig("router ospf 2\n")).toEqual(["ospfd"]);
    expect(daemonsForConfig("router ospf6 vrf x\n")).toEqual(["ospf6d"]);
    expect(daemonsForConfig("router ripng\nrouter rip\n")).toEqual(["ripd", "ripngd"]);
    expect(daemonsForConfig("! router bgp 1\n# router isis x\n")).toEqual([]);
    expect(daemonsForConfig("interface eth1\n ip router isis core\n")).toEqual(["isisd"]);
    expect(daemonsForConfig("bfd\n peer 1.1.1.1\n")).toEqual(["bfdd"]);
    expect(daemonsForConfig("mpls ldp\npbr-map X seq 1\ninterface e\n vrrp 5\n")).toEqual(["ldpd", "pbrd", "vrrpd"]);
    expect(daemonsForConfig("segment-routing\n traffic-eng\n")).toEqual(["pathd"]);
    expect(daemonsForConfig("ip route 1.0.0.0/8 Null0\n")).toEqual([]);
  });

  it("parses explicit lists and rejects unknown daemons", () => {
    expect(parseDaemonList("ospfd, bgpd  isisd")).toEqual(["bgpd", "ospfd", "isisd"]);
    expect(() => parseDaemonList("bgpd quaggad")).toThrow(/unknown FRR daemon quaggad; known daemons: mgmtd, zebra/);
  });

  it("always runs zebra and staticd, mgmtd first where installed", () => {
    expect(frrDaemonSet("", [], false)).toEqual(["zebra", "staticd"]);
    expect(frrDaemonSet("router bgp 1\n", ["ospfd"], true)).toEqual(["mgmtd", "zebra", "staticd", "bgpd", "ospfd"]);
    expect(frrDaemonSet("", ["mgmtd"], false)).toEqual(["zebra", "staticd"]);
  });
});

function context(config: string, env: Record<string, string> = {}): LocalNodeContext {
  const node = create(topo.NodeSchema, { name: "r1", vendor: topo.Vendor.FRR, config: { env } });
  return {
    topology: "t",
    node,
    netns: "kne.t.r1",
    nodeDir: "/run/kne/t/r1",
    bootConfig: new TextEncoder().encode(config),
    exec: async () => ({ code: 0, stdout: "", stderr: "" }),
    processes: { signal: async () => undefined, restart: async () => undefined },
  };
}

describe("FRR processes", () => {
  it("starts each daemon with per-node sockets and pid files, without -N", () => {
    const specs = frrVendor.local!.processes(context("router bgp 65001\n"));
    expect(specs.map((s) => s.name)).toEqual(frrDaemonsOf(context("router bgp 65001\n")));
    expect(specs.map((s) => s.name)).toContain("bgpd");
    const bgpd = specs.find((s) => s.name === "bgpd")!;
    expect(bgpd.argv).toEqual([
      "/usr/lib/frr/bgpd",
      "-f",
      "/dev/null",
      "--vty_socket",
      "/run/kne/t/r1/frr/run",
      "-i",
      "/run/kne/t/r1/frr/run/bgpd.pid",
      "-z",
      "/run/kne/t/r1/frr/run/zserv.api",
      "-P",
      "0",
      "--log",
      "stdout",
    ]);
    expect(bgpd.waitForPaths).toEqual(["/run/kne/t/r1/frr/run/zserv.api"]);
    const zebra = specs.find((s) => s.name === "zebra")!;
    expect(zebra.argv).toContain("90000000");
    expect(zebra.waitForPaths).toBeUndefined();
    for (const s of specs) expect(s.argv).not.toContain("-N");
  });

  it("adds daemons listed in config.env FRR_DAEMONS and rejects unknown ones", () => {
    expect(frrVendor.local!.processes(context("", { FRR_DAEMONS: "ospfd" })).map((s) => s.name)).toContain("ospfd");
    expect(() => frrVendor.local!.processes(context("", { FRR_DAEMONS: "nope" }))).toThrow(/unknown FRR daemon nope/);
  });

  it("enables forwarding in the node", () => {
    expect(frrVendor.local!.sysctls(context(""))).toEqual({ "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1" });
  });

  it("strips vtysh's preamble from the running config", () => {
    const shown = "Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\nhostname r1\n!\nend\n";
    expect(stripRunningConfigPreamble(shown)).toBe("!\nfrr version 8.4.4\nhostname r1\n!\nend\n");
  });
});
