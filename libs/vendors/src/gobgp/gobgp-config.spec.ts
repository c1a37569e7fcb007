import { describe, expect, it } from "vitest";
import { configTypeOfFileName, gobgpChangeNeedsRestart, gobgpConfigType } from "./gobgp-config";

describe("gobgpConfigType", () => {
  it("follows the extension of config.file, then config_file, else YAML as upstream", () => {
    // upstream's example: config_file "gobgp.conf" holding r1.yaml
    expect(gobgpConfigType({ file: "r1.yaml", configFile: "gobgp.conf" })).toBe("yaml");
    expect(gobgpConfigType({ configFile: "gobgpd.toml" })).toBe("toml");
    expect(gobgpConfigType({ file: "r1.conf", configFile: "gobgp.JSON" })).toBe("json");
    expect(gobgpConfigType({ configFile: "gobgp.conf" })).toBe("yaml");
    expect(gobgpConfigType({})).toBe("yaml");
    expect(configTypeOfFileName("a.yml")).toBe("yaml");
    expect(configTypeOfFileName("noext")).toBeUndefined();
  });
});

const yamlBase = `
global:
  config:
    as: 65001
    router-id: 10.1.0.1
neighbors:
  - config:
      neighbor-address: 10.0.0.2
      peer-as: 65002
`;

describe("gobgpChangeNeedsRestart", () => {
  it("reloads neighbor and policy changes (YAML)", () => {
    const more = `${yamlBase}  - config:\n      neighbor-address: 10.0.0.3\n      peer-as: 65003\n`;
    expect(gobgpChangeNeedsRestart(yamlBase, more, "yaml")).toBe(false);
    const policy = yamlBase.replace("global:\n", "global:\n  apply-policy:\n    config:\n      default-import-policy: reject-route\n");
    expect(gobgpChangeNeedsRestart(yamlBase, policy, "yaml")).toBe(false);
    expect(gobgpChangeNeedsRestart(yamlBase, `${yamlBase}defined-sets:\n  prefix-sets: []\n`, "yaml")).toBe(false);
  });

  it("restarts for global changes and for parts gobgpd does not reload", () => {
    expect(gobgpChangeNeedsRestart(yamlBase, yamlBase.replace("65001", "65009"), "yaml")).toBe(true);
    expect(gobgpChangeNeedsRestart(yamlBase, yamlBase.replace("10.1.0.1", "10.1.0.9"), "yaml")).toBe(true);
    expect(gobgpChangeNeedsRestart(yamlBase, `${yamlBase}zebra:\n  config:\n    enabled: true\n`, "yaml")).toBe(true);
    expect(gobgpChangeNeedsRestart(yamlBase, "global: [", "yaml")).toBe(true);
  });

  it("compares keys case-insensitively and JSON as YAML", () => {
    expect(gobgpChangeNeedsRestart(yamlBase, yamlBase.replace("router-id", "Router-Id"), "yaml")).toBe(false);
    const a = JSON.stringify({ global: { config: { as: 1, "router-id": "1.1.1.1" } }, neighbors: [] });
    const b = JSON.stringify({ neighbors: [{ config: { "neighbor-address": "1.1.1.2" } }], global: { config: { "router-id": "1.1.1.1", as: 1 } } });
    expect(gobgpChangeNeedsRestart(a, b, "json")).toBe(false);
  });

  it("splits TOML by tables", () => {
    const toml = `[global.config]\n  as = 65001\n  router-id = "10.1.0.1"\n\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "10.0.0.2"\n    peer-as = 65002\n`;
    const moreNeighbors = `${toml}\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "10.0.0.3"\n    peer-as = 65003\n`;
    expect(gobgpChangeNeedsRestart(toml, moreNeighbors, "toml")).toBe(false);
    expect(gobgpChangeNeedsRestart(toml, `${toml}[global.apply-policy.config]\n  import-policy-list = ["p"]\n`, "toml")).toBe(false);
    expect(gobgpChangeNeedsRestart(toml, toml.replace("65001", "65010"), "toml")).toBe(true);
    expect(gobgpChangeNeedsRestart(toml, `${toml}[zebra.config]\n  enabled = true\n`, "toml")).toBe(true);
    expect(gobgpChangeNeedsRestart(toml, `# a comment\n${toml}\n\n`, "toml")).toBe(false);
  });
});
