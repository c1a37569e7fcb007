import { describe, expect, it } from "vitest";
import { parseDuration } from "./cli-support";
import { parseRate } from "./commands/link-impair";
import { runKne } from "./testing";

describe("command line values", () => {
  it("reads durations", () => {
    expect(parseDuration("90", "--timeout")).toBe(90_000);
    expect(parseDuration("5m", "--timeout")).toBe(300_000);
    expect(parseDuration("1h30m", "--timeout")).toBe(5_400_000);
    expect(parseDuration("250ms", "--delay")).toBe(250);
    expect(() => parseDuration("soon", "--timeout")).toThrow(/--timeout must be a duration/);
  });

  it("reads rates in kbit/s", () => {
    expect(parseRate("50mbit")).toBe(50_000n);
    expect(parseRate("800kbit")).toBe(800n);
    expect(parseRate("1gbit")).toBe(1_000_000n);
    expect(() => parseRate("fast")).toThrow(/--rate/);
  });
});

describe("commands that talk to the manager", () => {
  it("report an invalid topology file with FILE:LINE:COL before anything is made", async () => {
    const r = await runKne(["create", "no-such.pb.txt"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no-such.pb.txt: cannot read: no such file");
  });

  it("check their command lines", async () => {
    expect((await runKne(["link", "set", "lab", "r1:eth1", "sideways"])).code).toBe(2);
    expect((await runKne(["exec", "lab", "r1"])).stderr).toContain("no command given");
    expect((await runKne(["create", "a.pb.txt", "--timeout", "soon"])).code).toBe(2);
    expect((await runKne(["link", "impair", "lab", "r1:eth1"])).stderr).toContain("at least one impairment");
  });

  it("generates rings and graphs from files without a manager", async () => {
    const ring = await runKne(["topology", "generate", "ring", "4", "--to", "yaml"]);
    expect(ring.code).toBe(0);
    expect(ring.stdout).toContain("name: ring-4");
    const graph = await runKne(["graph", "examples/frr-clos/topology.pb.txt", "--format", "mermaid"]);
    expect(graph.code).toBe(0);
    expect(graph.stdout).toContain('n_spine1 ---|"eth1 — eth1"| n_leaf1');
  });
});
