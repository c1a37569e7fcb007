import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { sourceCrdsDir } from "./chart-files";
import { crdSchemas, kubernetesSchemas, schemaFileName } from "./json-schemas";

describe("schemaFileName", () => {
  it("follows kubeconform's template data (Group is the part before the slash, v1 for core)", () => {
    expect(schemaFileName("v1", "Service")).toBe("service_v1_v1.json");
    expect(schemaFileName("apps/v1", "Deployment")).toBe("deployment_apps_v1.json");
    expect(schemaFileName("kne.dev/v1alpha1", "Topology")).toBe("topology_kne.dev_v1alpha1.json");
  });
});

describe("kubernetesSchemas", () => {
  const swagger = {
    definitions: {
      "io.k8s.api.core.v1.Thing": {
        type: "object",
        properties: {
          apiVersion: { type: "string" },
          kind: { type: "string" },
          port: { $ref: "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString" },
          cpu: { $ref: "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity" },
          labels: { type: "object", additionalProperties: { type: "string" } },
          inner: { $ref: "#/definitions/io.k8s.api.core.v1.Inner" },
        },
        "x-kubernetes-group-version-kind": [{ group: "", version: "v1", kind: "Thing" }],
      },
      "io.k8s.api.core.v1.Inner": { type: "object", properties: { name: { type: "string" }, next: { $ref: "#/definitions/io.k8s.api.core.v1.Inner" } } },
      "io.k8s.api.core.v1.Unused": { type: "object", properties: { x: { type: "string" } } },
      "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { type: "string", format: "int-or-string" },
      "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string" },
    },
  };

  it("makes a standalone, strict schema per kind, with the wire forms of IntOrString and Quantity", () => {
    const out = kubernetesSchemas(swagger);
    expect([...out.keys()]).toEqual(["thing_v1_v1.json"]);
    const s = out.get("thing_v1_v1.json")!;
    expect(s["additionalProperties"]).toBe(false);
    expect((s["properties"] as Record<string, unknown>)["kind"]).toEqual({ type: "string", enum: ["Thing"] });
    const defs = s["definitions"] as Record<string, Record<string, unknown>>;
    // Only what the kind refers to, recursion included; the unused definition stays out.
    expect(Object.keys(defs).sort()).toEqual([
      "io.k8s.api.core.v1.Inner",
      "io.k8s.api.core.v1.Thing",
      "io.k8s.apimachinery.pkg.api.resource.Quantity",
      "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    ]);
    expect(defs["io.k8s.api.core.v1.Inner"]!["additionalProperties"]).toBe(false);
    expect(defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toEqual({ oneOf: [{ type: "string" }, { type: "integer" }] });
    expect(defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]).toEqual({ oneOf: [{ type: "string" }, { type: "number" }] });
    // A map keeps its additionalProperties schema.
    expect((s["properties"] as Record<string, Record<string, unknown>>)["labels"]!["additionalProperties"]).toEqual({ type: "string" });
  });

  it("refuses a reference to a definition that is not there", () => {
    const broken = { definitions: { ...swagger.definitions, "io.k8s.api.core.v1.Inner": { type: "object", properties: { x: { $ref: "#/definitions/nope" } } } } };
    expect(() => kubernetesSchemas(broken)).toThrow(/missing definition nope/);
  });
});

describe("crdSchemas", () => {
  it("turns each of our CRDs into a strict schema per version", () => {
    for (const file of ["topologies.kne.dev.yaml", "links.kne.dev.yaml", "devices.kne.dev.yaml"]) {
      const crd = parse(readFileSync(join(sourceCrdsDir, file), "utf8")) as Record<string, never>;
      const out = crdSchemas(crd);
      expect(out.size).toBeGreaterThan(0);
      for (const s of out.values()) {
        expect(s["additionalProperties"]).toBe(false);
        expect((s["properties"] as Record<string, unknown>)["spec"]).toBeDefined();
      }
    }
  });

  it("spells out x-kubernetes-int-or-string and keeps preserve-unknown-fields open", () => {
    const crd = {
      kind: "CustomResourceDefinition",
      metadata: { name: "things.example.test" },
      spec: {
        group: "example.test",
        names: { kind: "Thing" },
        versions: [{ name: "v1", schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { port: { "x-kubernetes-int-or-string": true }, free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { a: { type: "string" } } } } } } } } }],
      },
    };
    const s = crdSchemas(crd).get("thing_example.test_v1.json")!;
    const spec = (s["properties"] as Record<string, Record<string, Record<string, Record<string, unknown>>>>)["spec"]!;
    expect(spec["additionalProperties"]).toBe(false);
    expect(spec["properties"]!["port"]!["oneOf"]).toEqual([{ type: "string" }, { type: "integer" }]);
    expect(spec["properties"]!["free"]!["additionalProperties"]).toBeUndefined();
  });
});
