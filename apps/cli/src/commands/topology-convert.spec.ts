import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runKne, upstreamExamples } from "../testing";

describe("kne topology convert", () => {
  it("writes YAML with proto field names and integer service ports to stdout", async () => {
    const { code, stdout, stderr } = await runKne(["topology", "convert", join(upstreamExamples, "topo/testdata/valid_topo.pb.txt"), "--to", "yaml"]);
    expect([code, stderr]).toEqual([0, ""]);
    const yaml = parse(stdout) as { name: string; nodes: { services?: Record<number, unknown> }[]; links: unknown[] };
    expect(yaml.name).toBe("test-data-topology");
    expect(Object.keys(yaml.nodes[1]!.services!)).toEqual(["40051", "50051"]);
    expect(stdout).toContain("    40051:\n");
    expect(yaml.links[0]).toEqual({ a_node: "r1", a_int: "eth9", z_node: "otg", z_int: "eth1" });
  });

  it("converts text format → JSON → YAML → text format to a file that still validates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kne-convert-"));
    expect((await runKne(["topology", "convert", "examples/frr-2node-ebgp/topology.pb.txt", "-O", join(dir, "t.json")])).code).toBe(0);
    expect((await runKne(["topology", "convert", "t.json", "-O", "t.yaml"], dir)).code).toBe(0);
    expect((await runKne(["topology", "convert", "t.yaml", "--to", "textproto", "--out-file", "t.pb.txt"], dir)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "t.json"), "utf8"))).toMatchObject({ name: "frr-2node-ebgp" });
    expect(readFileSync(join(dir, "t.pb.txt"), "utf8")).toMatch(/^name: "frr-2node-ebgp"\n/);
    // The config files are relative to the topology, so the copy validates only beside them.
    const copy = await runKne(["topology", "validate", join(dir, "t.pb.txt")]);
    expect(copy.stderr).toContain('config file "r1.conf" not found');
  });

  it("reads a file whose name does not say its format with --from", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kne-convert-"));
    writeFileSync(join(dir, "lab.topology"), "name: lab\nnodes: [{ name: r1, vendor: HOST }]\n");
    expect(await runKne(["topology", "convert", "lab.topology", "--to", "json"], dir)).toMatchObject({ code: 1, stderr: expect.stringContaining("cannot tell the format") });
    const { code, stdout } = await runKne(["topology", "convert", "lab.topology", "--from", "yaml", "--to", "json"], dir);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ name: "lab", nodes: [{ name: "r1", vendor: "HOST" }] });
  });

  it("exits 1 with file:line:col for input that does not parse", async () => {
    const file = join(upstreamExamples, "topo/testdata/invalid_topo.pb.txt");
    expect(await runKne(["topology", "convert", file, "--to", "json"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `${file}:7:5: links[0].field_dne: unknown field "field_dne" in topo.Link\n`,
    });
  });

  it("exits 2 for a wrong command line", async () => {
    const file = "examples/host-3node/topology.pb.txt";
    expect(await runKne(["topology", "convert", file])).toMatchObject({ code: 2, stderr: expect.stringContaining("--to FORMAT is needed") });
    expect(await runKne(["topology", "convert", file, "--to", "xml"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--to must be one of textproto, yaml, json") });
    expect(await runKne(["topology", "convert", file, "-O", "out.bin"])).toMatchObject({ code: 2, stderr: expect.stringContaining('the name "out.bin" does not say') });
    expect(await runKne(["topology", "convert"])).toMatchObject({ code: 2 });
    expect(await runKne(["topology", "convert", file, file, "--to", "yaml"])).toMatchObject({ code: 2 });
  });
});
