import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runKne, upstreamExamples } from "../testing";
import type { ValidationReport } from "./topology-validate";

const invalidYaml = join(upstreamExamples, "topo/testdata/invalid_topo.yaml");
const duplicateLink = join(upstreamExamples, "cmd/topology/testdata/valid_topo.pb.txt");

describe("kne topology validate", () => {
  const scratch: string[] = [];
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("validates the shipped examples, one OK line each", async () => {
    const { code, stdout, stderr } = await runKne(["topology", "validate", "examples/frr-2node-ebgp/topology.pb.txt", "examples/host-3node/topology.pb.txt"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(
      'OK examples/frr-2node-ebgp/topology.pb.txt: topology "frr-2node-ebgp", 2 nodes, 1 link\n' +
        'OK examples/host-3node/topology.pb.txt: topology "host-3node", 3 nodes, 2 links\n',
    );
  });

  it("prints every problem as file:line:col: path: message and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kne-validate-"));
    scratch.push(dir);
    writeFileSync(
      join(dir, "lab.yaml"),
      "name: lab\nnodes:\n  - name: r1\n    config: { file: r1.cfg }\n  - name: R2\nlinks:\n  - { a_node: r1, a_int: eth1, z_node: r3, z_int: eth1 }\n",
    );
    const { code, stdout, stderr } = await runKne(["topology", "validate", "lab.yaml", invalidYaml], dir);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.split("\n")).toEqual([
      `lab.yaml:4:21: nodes[r1].config.file: config file "r1.cfg" not found (looked for ${join(dir, "r1.cfg")})`,
      expect.stringMatching(/^lab\.yaml:5:11: nodes\[1\]\.name: node name "R2" must consist of/),
      'lab.yaml:7:40: links[0].z_node: unknown node "r3"',
      `${invalidYaml}:6:5: links[0].field_dne: unknown field "field_dne" in topo.Link`,
      "2 files of 2 invalid (4 errors)",
      "",
    ]);
  });

  it("reports warnings without failing", async () => {
    const { code, stdout, stderr } = await runKne(["topology", "validate", duplicateLink]);
    expect(code).toBe(0);
    expect(stdout).toContain("2 nodes, 2 links, 1 warning");
    expect(stderr).toBe(`${duplicateLink}:33:1: links[1]: warning: same link as links[0]; the duplicate is ignored\n`);
  });

  it("-o json and -o yaml print one machine-readable report and nothing on stderr", async () => {
    const json = await runKne(["topology", "validate", "-o", "json", "examples/host-3node/topology.pb.txt", invalidYaml, "missing.pb.txt"]);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe("");
    const report = JSON.parse(json.stdout) as ValidationReport;
    expect(report.valid).toBe(false);
    expect(report.files.map((f) => [f.file, f.valid])).toEqual([
      ["examples/host-3node/topology.pb.txt", true],
      [invalidYaml, false],
      ["missing.pb.txt", false],
    ]);
    expect(report.files[0]).toMatchObject({ format: "textproto", topology: "host-3node", nodes: 3, links: 2, errors: [], warnings: [] });
    expect(report.files[1]!.errors[0]).toMatchObject({ line: 6, col: 5, path: "links[0].field_dne" });
    expect(report.files[2]!.errors[0]).toMatchObject({ file: "missing.pb.txt", message: "cannot read: no such file" });
    const yaml = await runKne(["topology", "validate", "--output", "yaml", "examples/host-3node/topology.pb.txt"]);
    expect(parse(yaml.stdout)).toMatchObject({ valid: true, files: [{ nodes: 3 }] });
  });

  it("every upstream example topology validates", async () => {
    const files = ["examples/arista/ceos-150/ceos-150.pb.txt", "examples/multivendor/multivendor.pb.txt", "examples/alpine/alpine.pb.txt", "topo/testdata/valid_topo.yaml"];
    const { code, stdout } = await runKne(["topology", "validate", ...files], upstreamExamples);
    expect(code).toBe(0);
    expect(stdout).toContain('topology "ceos-150", 150 nodes');
  });

  it("exits 2 without a file", async () => {
    expect(await runKne(["topology", "validate"])).toMatchObject({ code: 2, stderr: expect.stringContaining("at least one topology FILE is needed") });
  });
});
