import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import {
  BackendRequiredError,
  UnsupportedModelError,
  UnsupportedVendorError,
  findVendorByName,
  localVendorNames,
  requireLocalRuntime,
  resolveVendor,
  supportedVendorNames,
  vendorEnumName,
  vendorRegistry,
  withVendorDefaults,
  applyConfigDefaults,
} from "./index";

function node(vendor: topo.Vendor, model = "", name = "n1"): topo.Node {
  return create(topo.NodeSchema, { name, vendor, model });
}

const upstreamVendors = [
  "HOST",
  "ARISTA",
  "CISCO",
  "JUNIPER",
  "KEYSIGHT",
  "GOBGP",
  "NOKIA",
  "OPENCONFIG",
  "ALPINE",
  "DRIVENETS",
  "FORWARD",
  "IN_CLUSTER_PROXY",
  "SONIC",
  "CIENA",
  "FRR",
];

describe("vendor registry contract", () => {
  it("has every upstream vendor (and BIRD), each once", () => {
    expect(new Set(supportedVendorNames)).toEqual(new Set([...upstreamVendors, "BIRD"]));
    expect(new Set(vendorRegistry.map((d) => d.vendor)).size).toBe(vendorRegistry.length);
  });

  it("runs exactly HOST, FRR, GOBGP and BIRD locally", () => {
    expect(localVendorNames).toEqual(["HOST", "FRR", "GOBGP", "BIRD"]);
  });

  it("has names and aliases unique across the registry, case-insensitively", () => {
    const seen = new Map<string, string>();
    for (const d of vendorRegistry) {
      for (const n of [d.name, ...(d.aliases ?? [])]) {
        const key = n.toLowerCase();
        expect(seen.get(key), `${n} of ${d.name}`).toBeUndefined();
        seen.set(key, d.name);
      }
    }
  });

  for (const d of vendorRegistry) {
    describe(d.name, () => {
      it("is named by its enum value and described", () => {
        expect(vendorEnumName(d.vendor)).toBe(d.name);
        expect(d.description.length).toBeGreaterThan(3);
      });

      it("has either a local runtime or the backend it needs", () => {
        expect(Boolean(d.local) !== Boolean(d.requiresBackend), "exactly one of local / requiresBackend").toBe(true);
        if (d.local) {
          for (const op of ["sysctls", "prepare", "processes", "ready"] as const) expect(typeof d.local[op]).toBe("function");
        }
      });

      it("has valid default services", () => {
        const all = [d.defaults, ...d.models.map((m) => ({ services: m.defaults?.services ?? {} }))];
        for (const defaults of all) {
          for (const [port, service] of Object.entries(defaults.services)) {
            const outside = Number(port);
            expect(Number.isInteger(outside) && outside >= 1 && outside <= 65535, `outside port ${port}`).toBe(true);
            expect(Number.isInteger(service.inside) && service.inside >= 1 && service.inside <= 65535, `inside ${service.inside}`).toBe(true);
            expect(service.names.length).toBeGreaterThan(0);
            for (const n of service.names) expect(n).toMatch(/^[a-z0-9][a-z0-9-]*$/);
          }
        }
      });

      it("has anchored interface patterns and a consistent default model", () => {
        const pattern = d.defaults.interfacePattern;
        if (pattern) {
          expect(pattern.source.startsWith("^") && pattern.source.endsWith("$")).toBe(true);
          expect(pattern.flags).toBe("");
        }
        const names = d.models.flatMap((m) => [m.name, ...(m.aliases ?? [])].map((n) => n.toLowerCase()));
        expect(new Set(names).size).toBe(names.length);
        if (d.defaultModel && d.models.length > 0) expect(names).toContain(d.defaultModel.toLowerCase());
      });

      it("resolves by vendor, and by vendor + every model in any case", () => {
        if (d.models.length === 0 || d.defaultModel) {
          expect(resolveVendor(node(d.vendor)).model).toBe(d.defaultModel);
        } else {
          expect(() => resolveVendor(node(d.vendor))).toThrow(UnsupportedModelError);
        }
        for (const m of d.models) {
          expect(resolveVendor(node(d.vendor, m.name)).model).toBe(m.name);
          expect(resolveVendor(node(d.vendor, m.name.toUpperCase())).model).toBe(m.name);
          expect(resolveVendor(node(d.vendor, m.name.toLowerCase())).name).toBe(d.name);
        }
        expect(findVendorByName(d.name.toLowerCase())).toBe(d);
        for (const alias of d.aliases ?? []) expect(findVendorByName(alias)).toBe(d);
      });

      it("rejects an unknown model listing the supported ones (when it lists models)", () => {
        if (d.models.length === 0) {
          expect(resolveVendor(node(d.vendor, "anything-goes")).model).toBe("anything-goes");
          return;
        }
        let error: unknown;
        try {
          resolveVendor(node(d.vendor, "no-such-model"));
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(UnsupportedModelError);
        const e = error as UnsupportedModelError;
        expect(e.code).toBe("INVALID_ARGUMENT");
        expect(e.field).toBe("nodes[n1].model");
        for (const m of d.models) expect(e.message).toContain(m.name);
      });

      it("answers requireLocalRuntime with the runtime or a backend error", () => {
        const n = node(d.vendor, d.defaultModel ?? d.models[0]?.name ?? "");
        if (d.local) {
          expect(requireLocalRuntime(n)).toBe(d.local);
        } else {
          expect(() => requireLocalRuntime(n)).toThrow(BackendRequiredError);
          expect(() => requireLocalRuntime(n)).toThrow(/needs the kubernetes backend/);
        }
      });

      it("fills defaults without touching what the node sets", () => {
        const n = node(d.vendor, d.defaultModel ?? d.models[0]?.name ?? "");
        const filled = withVendorDefaults(n);
        expect(Object.keys(filled.services).length).toBe(Object.keys(resolveVendor(n).defaults.services).length);
        expect(filled.labels["vendor"]).toBe(d.name);
        expect(Object.keys(n.services)).toHaveLength(0); // input unchanged
      });
    });
  }
});

describe("resolveVendor errors", () => {
  it("lists every supported vendor for one it does not know", () => {
    let error: unknown;
    try {
      resolveVendor(node(topo.Vendor.QUAGGA, "", "q1"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedVendorError);
    const e = error as UnsupportedVendorError;
    expect(e.message).toBe(`vendor QUAGGA is not supported; supported vendors: ${supportedVendorNames.join(", ")}`);
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.field).toBe("nodes[q1].vendor");
    expect(() => resolveVendor(node(topo.Vendor.UNKNOWN))).toThrow(/vendor UNKNOWN is not supported/);
    expect(() => resolveVendor(node(999 as topo.Vendor))).toThrow(/vendor 999 is not supported/);
  });

  it("asks for a model where the vendor needs one", () => {
    expect(() => resolveVendor(node(topo.Vendor.OPENCONFIG))).toThrow(
      "vendor OPENCONFIG needs a model; supported models: LEMMING, MAGNA",
    );
    expect(() => resolveVendor(node(topo.Vendor.CISCO, "9000"))).toThrow(
      'vendor CISCO has no model "9000"; supported models: xrd, 8201, 8201-32FH, 8202, 8101-32H, 8102-64H',
    );
  });

  it("names the backend a container vendor needs", () => {
    expect(() => requireLocalRuntime(node(topo.Vendor.ARISTA, "ceos", "r1"))).toThrow(
      "vendor ARISTA (model ceos) needs the kubernetes backend: it is made by its operator from a CEosLabDevice resource; " +
        "the local backend runs HOST, FRR, GOBGP, BIRD",
    );
    expect(() => requireLocalRuntime(node(topo.Vendor.CISCO, "", "r1"))).toThrow(
      "vendor CISCO (model xrd) needs the kubernetes backend: it runs from a container image (ios-xr:latest)",
    );
    try {
      requireLocalRuntime(node(topo.Vendor.SONIC, "", "s1"));
    } catch (e) {
      expect((e as BackendRequiredError).code).toBe("FAILED_PRECONDITION");
      expect((e as BackendRequiredError).field).toBe("nodes[s1].vendor");
    }
  });
});

describe("model defaults", () => {
  it("merges a model's defaults over the vendor's", () => {
    const magna = resolveVendor(node(topo.Vendor.OPENCONFIG, "magna"));
    expect(magna.model).toBe("MAGNA");
    expect(Object.keys(magna.defaults.services).map(Number).sort()).toEqual([40051, 50051]);
    expect(magna.defaults.labels?.["ondatra-role"]).toBe("ATE");
    expect(magna.defaults.container?.image).toBe("magna:latest");
    const lemming = resolveVendor(node(topo.Vendor.OPENCONFIG, "lemming"));
    expect(Object.keys(lemming.defaults.services).map(Number).sort()).toEqual([9339, 9340]);
    const cptx = resolveVendor(node(topo.Vendor.JUNIPER, "cptx"));
    expect(cptx.defaults.container?.constraints).toEqual({ cpu: "8", memory: "8Gi" });
    expect(cptx.defaults.container?.configFile).toBe("juniper.conf");
  });

  it("fills upstream's service layout and keeps a node's own services", () => {
    const filled = withVendorDefaults(node(topo.Vendor.CISCO, "XRD"));
    expect(filled.model).toBe("xrd");
    expect(filled.services[9339]).toMatchObject({ name: "gnmi", names: ["gnmi", "gnoi", "gnsi"], inside: 57400, outside: 9339 });
    const own = node(topo.Vendor.NOKIA);
    own.services[22] = create(topo.ServiceSchema, { name: "ssh", inside: 22 });
    own.labels["ondatra-role"] = "ATE";
    const kept = withVendorDefaults(own);
    expect(Object.keys(kept.services)).toEqual(["22"]);
    expect(kept.labels).toMatchObject({ vendor: "NOKIA", model: "ixrd2", "ondatra-role": "ATE" });
  });

  it("matches vendor interface names", () => {
    const pattern = (v: topo.Vendor) => resolveVendor(node(v, v === topo.Vendor.OPENCONFIG ? "lemming" : "")).defaults.interfacePattern!;
    expect(pattern(topo.Vendor.ARISTA).test("Ethernet1/1")).toBe(true);
    expect(pattern(topo.Vendor.ARISTA).test("eth1")).toBe(false);
    expect(pattern(topo.Vendor.CISCO).test("GigabitEthernet0/0/0/1")).toBe(true);
    expect(pattern(topo.Vendor.CISCO).test("FourHundredGigE0/0/0/5")).toBe(true);
    expect(pattern(topo.Vendor.JUNIPER).test("et-0/0/0:1")).toBe(true);
    expect(pattern(topo.Vendor.NOKIA).test("ethernet-1/1")).toBe(true);
  });
});

describe("applyConfigDefaults: the node config upstream fills before it makes the pod", () => {
  it("fills what the topology leaves empty and keeps what it sets", () => {
    const h = applyConfigDefaults(node(topo.Vendor.HOST, "", "h1"));
    expect(h.config).toMatchObject({ image: "alpine:latest", command: ["/bin/sh", "-c", "sleep 2000000000000"], entryCommand: "kubectl exec -it h1 -- sh", configPath: "/etc", configFile: "config" });
    const own = create(topo.NodeSchema, { name: "r1", vendor: topo.Vendor.ARISTA, config: { image: "ceos:4.32", configFile: "my-config" } });
    const r = applyConfigDefaults(own);
    expect(r.config).toMatchObject({ image: "ceos:4.32", configFile: "my-config", configPath: "/mnt/flash", entryCommand: "kubectl exec -it r1 -- Cli" });
    expect(r.config?.cert?.config).toEqual({ case: "selfSigned", value: expect.objectContaining({ certName: "gnmiCert.pem", keyName: "gnmiCertKey.pem", keySize: 4096 }) });
    expect(r.constraints).toEqual({ cpu: "0.5", memory: "1Gi" });
    expect(applyConfigDefaults(node(topo.Vendor.CISCO, "8201", "x1")).constraints).toEqual({ cpu: "4", memory: "12Gi" });
    expect(applyConfigDefaults(node(topo.Vendor.DRIVENETS, "CDNOS", "d1")).config?.cert?.config.value).toMatchObject({ commonName: "d1", keySize: 2048 });
  });

  it("leaves a node of an unknown model as it is", () => {
    const n = node(topo.Vendor.CISCO, "9999");
    expect(applyConfigDefaults(n).config).toBeUndefined();
  });
});
