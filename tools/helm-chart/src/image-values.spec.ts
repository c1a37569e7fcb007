import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { chartImageValues, chartImageValuesYaml, readImageList, type ImageListEntry } from "./image-values";

const app = (name: string, tag: string): ImageListEntry => ({ name, ref: `localhost/kne/${name}:${tag}`, tag, app: name });
const apps = [app("topology-manager", "a1"), app("topology-agent", "a2"), app("config-bootstrapper", "a3"), app("service-exposer", "a4")];

describe("chart values from the image list", () => {
  it("sets each app's repository and tag, and maps the vendors' default images and the init image to the built ones", () => {
    const values = chartImageValues([...apps, { name: "host", ref: "localhost/kne/host:h1", tag: "h1", vendor: "HOST" }, { name: "frr", ref: "localhost/kne/frr:f1", tag: "f1", vendor: "FRR" }, { name: "init-wait", ref: "localhost/kne/init-wait:i1", tag: "i1" }], "list.json");
    expect(values.images["topologyManager"]).toEqual({ repository: "localhost/kne/topology-manager", tag: "a1" });
    expect(values.images["serviceExposer"]).toEqual({ repository: "localhost/kne/service-exposer", tag: "a4" });
    expect(values.topologyManager.imageOverrides).toEqual({
      "alpine:latest": "localhost/kne/host:h1",
      "frrouting/frr:latest": "localhost/kne/frr:f1",
      "networkop/init-wait:latest": "localhost/kne/init-wait:i1",
    });
    expect(parse(chartImageValuesYaml(values, "list.json"))).toEqual(values);
  });

  it("names the list and what is missing or wrong", () => {
    expect(() => chartImageValues(apps.slice(1), "list.json")).toThrow(/list\.json: no topology-manager image/);
    expect(() => chartImageValues([...apps, { name: "x", ref: "x:1", tag: "1", vendor: "NOPE" }], "list.json")).toThrow(/image x: unknown vendor NOPE/);
    const dir = mkdtempSync(join(tmpdir(), "image-values-"));
    try {
      const file = join(dir, "images.json");
      writeFileSync(file, JSON.stringify({ images: [{ name: "host", ref: "localhost/kne/host:h1", tag: "h2" }] }));
      expect(() => readImageList(file)).toThrow(/images\.json: images\[0\] \(host\): ref localhost\/kne\/host:h1 does not end in its tag h2/);
      writeFileSync(file, JSON.stringify({ images: [{ name: "host", tag: "h1" }] }));
      expect(() => readImageList(file)).toThrow(/images\[0\]\.ref: missing/);
      expect(() => readImageList(join(dir, "absent.json"))).toThrow(/absent\.json: .*ENOENT.*tools\/images\/build\.sh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
