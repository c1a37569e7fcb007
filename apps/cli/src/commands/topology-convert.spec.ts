import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runKne, upstreamExamples } from "../testing";

/** A scratch directory for one test, removed after it. */
const scratch: string[] = [];
function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kne-convert-"));
  scratch.push(dir);
  return dir;
}

describe("kne topology convert", () => {
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

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
    const dir = scratchDir();
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
    const dir = scratchDir();
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

  it("--resolved: interfaces keyed by their Linux names, vendor defaults filled, the file as written untouched", async () => {
    const file = "libs/vendors/src/ciena/testdata/ciena-ports.pb.txt";
    const { code, stdout, stderr } = await runKne(["topology", "convert", file, "--to", "yaml", "--resolved"]);
    expect([code, stderr]).toEqual([0, ""]);
    type Node = { name: string; config?: Record<string, unknown>; interfaces?: Record<string, Record<string, unknown>> };
    const yaml = parse(stdout) as { nodes: Node[]; links: unknown[] };
    const saos2 = yaml.nodes.find((n) => n.name === "saos-2")!;
    expect(Object.keys(saos2.interfaces!).sort()).toEqual(["eth1", "eth2", "eth3", "eth4"]);
    expect(saos2.interfaces!["eth2"]).toMatchObject({ int_name: "2", peer_name: "saos-1", peer_int_name: "1/5/2", uid: "1" });
    expect(saos2.config).toMatchObject({ image: "saos-containerlab:latest", config_path: "config/", config_file: "config.cfg" });
    const h1 = yaml.nodes.find((n) => n.name === "h1")!;
    expect(h1.config).toMatchObject({ image: "alpine:latest", entry_command: "kubectl exec -it h1 -- sh" });
    expect(yaml.links[0]).toEqual({ a_node: "saos-1", a_int: "1/5/1", z_node: "saos-2", z_int: "1/5/1" });
    const plain = await runKne(["topology", "convert", file, "--to", "yaml"]);
    expect(plain.stdout).not.toContain("int_name");
  });

  it("--resolved refuses an invalid topology with file:line:col", async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "bad.pb.txt"), 'name: "c"\nnodes { name: "a" vendor: CIENA }\nnodes { name: "b" vendor: CIENA }\nlinks { a_node: "a" a_int: "1/5/1" z_node: "b" z_int: "1/9/12345678901234" }\n');
    const { code, stdout, stderr } = await runKne(["topology", "convert", "bad.pb.txt", "--to", "json", "--resolved"], dir);
    expect([code, stdout]).toEqual([1, ""]);
    expect(stderr).toMatch(/^bad\.pb\.txt:4:\d+: links\[0\]\.z_int: interface name "1\/9\/12345678901234" is the Linux interface "eth12345678901234", which must be at most 15 bytes/);
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
