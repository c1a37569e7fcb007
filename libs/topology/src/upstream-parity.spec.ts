// Every upstream example topology loads and validates; upstream's invalid files are
// rejected for the reason upstream rejects them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyParseError, type Problem } from "./errors";
import { detectTopologyFormat } from "./format";
import { loadTopology, type LoadedTopology } from "./load";
import { listFiles, upstreamExamplesDir } from "./testing/upstream-examples";
import { resolveConfigPath, validateTopology } from "./validate";

const examplesDir = upstreamExamplesDir();
const files = listFiles(examplesDir);

/** Deployment YAMLs (`kne deploy`) describe clusters, not topologies. */
function isDeployment(file: string): boolean {
  return file.startsWith("deploy/") || file.startsWith("cmd/deploy/");
}

function isInvalidFixture(file: string): boolean {
  return /^topo\/testdata\/invalid_topo\./.test(file);
}

describe("upstream example topologies", () => {
  const textTopologies = files.filter((file) => detectTopologyFormat(file) === "textproto" && !isInvalidFixture(file));

  it("every text-format topology loads and validates with no errors", async () => {
    const problems: Problem[] = [];
    const loaded: LoadedTopology[] = [];
    for (const file of textTopologies) {
      const topology = await loadTopology(join(examplesDir, file));
      loaded.push(topology);
      problems.push(...validateTopology(topology.topology, topology).errors);
    }
    expect(problems).toEqual([]);
    expect(loaded.length).toBeGreaterThanOrEqual(25);
    expect(loaded.reduce((sum, t) => sum + t.topology.nodes.length, 0)).toBeGreaterThanOrEqual(150);
  });

  it("every YAML topology loads and validates; the other YAML files are configs or deployments", async () => {
    // A YAML file that a topology names as a node's config is that node's config (gobgp's r1.yaml).
    const configFiles = new Set<string>();
    for (const file of textTopologies) {
      const { topology, baseDir } = await loadTopology(join(examplesDir, file));
      for (const node of topology.nodes) {
        if (node.config?.configData.case === "file") configFiles.add(resolveConfigPath(baseDir!, node.config.configData.value));
      }
    }
    const yamlFiles = files.filter((file) => detectTopologyFormat(file) === "yaml" && !isInvalidFixture(file));
    const yamlTopologies = yamlFiles.filter((file) => !isDeployment(file) && !configFiles.has(join(examplesDir, file)));
    expect(yamlTopologies).toEqual(["topo/testdata/valid_topo.yaml"]);
    expect(yamlFiles.filter(isDeployment)).toHaveLength(7);
    expect(yamlFiles.filter((file) => configFiles.has(join(examplesDir, file)))).toHaveLength(2);
    for (const file of yamlTopologies) {
      const topology = await loadTopology(join(examplesDir, file));
      expect(validateTopology(topology.topology, topology).errors).toEqual([]);
    }
  });

  it("locates every node and link of every upstream topology on the line that names it", async () => {
    let located = 0;
    for (const file of [...textTopologies, "topo/testdata/valid_topo.yaml"]) {
      const loaded = await loadTopology(join(examplesDir, file));
      const lines = readFileSync(join(examplesDir, file), "utf8").split("\n");
      const lineAt = (path: string) => lines[(loaded.locate(path)?.line ?? 0) - 1] ?? "";
      loaded.topology.nodes.forEach((node, i) => {
        expect(lineAt(`nodes[${i}].name`), `${file} nodes[${i}]`).toContain(node.name);
        located++;
      });
      loaded.topology.links.forEach((link, i) => {
        expect(lineAt(`links[${i}].z_int`), `${file} links[${i}]`).toContain(link.zInt);
        located++;
      });
    }
    expect(located).toBeGreaterThanOrEqual(450);
  });

  it("upstream's duplicated link is a warning, not an error", async () => {
    const topology = await loadTopology(join(examplesDir, "cmd/topology/testdata/valid_topo.pb.txt"));
    const result = validateTopology(topology.topology, topology);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.path)).toEqual(["links[1]"]);
  });

  it("the same topology reads the same from text format and YAML", async () => {
    const text = await loadTopology(join(examplesDir, "topo/testdata/valid_topo.pb.txt"));
    const yaml = await loadTopology(join(examplesDir, "topo/testdata/valid_topo.yaml"));
    expect(yaml.topology).toEqual(text.topology);
  });

  it.each(files.filter(isInvalidFixture))("%s is rejected for its unknown field field_dne", async (file) => {
    const error = await loadTopology(join(examplesDir, file)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TopologyParseError);
    const problem = (error as TopologyParseError).problem;
    expect(problem.message).toContain("field_dne");
    expect(problem).toMatchObject({ line: expect.any(Number), col: expect.any(Number) });
    expect(problem.path).toContain("links[0]");
  });
});
