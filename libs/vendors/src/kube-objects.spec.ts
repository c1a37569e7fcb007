import { parseTopology, resolveTopology } from "@kne/topology";
import type { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { KubeObjectsError, UnsupportedModelError } from "./errors";
import { type KubeObject, type NodeObjects, type OperatorMode, kubeObjectsForNode } from "./kube-objects";
import { CONFIG_MAP_MAX_BYTES, CONFIG_PART_BYTES, type ContainerJson } from "./kube-shape";
import { vendorRegistry } from "./registry";

interface PodSpec {
  initContainers?: ContainerJson[];
  containers: ContainerJson[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: object }[];
  terminationGracePeriodSeconds?: number;
  affinity?: unknown;
  imagePullSecrets?: { name: string }[];
}

function topology(text: string): topo.Topology {
  return resolveTopology(parseTopology(text, { format: "textproto", file: "t.pb.txt" }).topology);
}

function objectsOf(t: topo.Topology, name: string, options: { mode?: OperatorMode; secrets?: string[]; namespace?: string } = {}): NodeObjects {
  const node = t.nodes.find((n) => n.name === name)!;
  return kubeObjectsForNode({
    topology: t.name,
    namespace: options.namespace ?? "ns1",
    node,
    links: t.links.filter((l) => l.aNode === name || l.zNode === name),
    operatorMode: options.mode,
    imagePullSecrets: options.secrets,
  });
}

function one(r: NodeObjects, kind: string, name?: string): KubeObject {
  const found = r.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ""}`).toHaveLength(1);
  return found[0]!;
}

const podSpec = (o: KubeObject) => o.spec as PodSpec;
const envOf = (c: ContainerJson) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

/** Two nodes of one vendor line, `dut` linked to a HOST on eth1 and eth2. */
function pair(dut: string, extraLinks = ""): topo.Topology {
  return topology(
    `name: "lab" nodes { name: "dut" ${dut} } nodes { name: "h" vendor: HOST }
     links { a_node: "dut" a_int: "eth1" z_node: "h" z_int: "eth1" }
     links { a_node: "h" a_int: "eth2" z_node: "dut" z_int: "eth2" } ${extraLinks}`,
  );
}

describe("default pod shape", () => {
  const t = topology(`
    name: "lab"
    nodes {
      name: "r1" vendor: HOST labels { key: "role" value: "edge" }
      config { data: "boot text" config_path: "/etc/r" config_file: "boot.cfg" sleep: 7 env { key: "B" value: "2" } env { key: "A" value: "1" } }
      services { key: 2022 value { name: "ssh" inside: 22 } }
      services { key: 80 value { name: "http" inside: 8080 } }
      constraints { key: "cpu" value: "250m" }
    }
    nodes { name: "r2" vendor: HOST }
    nodes { name: "r3" vendor: HOST }
    links { a_node: "r1" a_int: "eth1" z_node: "r2" z_int: "eth1" }
    links { a_node: "r3" a_int: "eth1" z_node: "r1" z_int: "eth2" }
    links { a_node: "r2" a_int: "eth2" z_node: "r3" z_int: "eth2" }
  `);
  const r = objectsOf(t, "r1", { secrets: ["regcred"] });

  it("applies ConfigMap, then Pod, then Service", () => {
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/r1-config", "Pod/r1", "Service/service-r1"]);
    expect(r.objects.every((o) => o.metadata.namespace === "ns1")).toBe(true);
    expect(r.expectedPods).toBe(1);
    expect(r.operatorCrd).toBeUndefined();
  });

  it("labels every object with upstream's app/topo, ours and the node's", () => {
    for (const o of r.objects) {
      expect(o.metadata.labels).toMatchObject({ app: "r1", topo: "lab", "kne.dev/topology": "lab", "kne.dev/node": "r1", role: "edge", vendor: "HOST" });
    }
    expect(r.podSelector).toEqual({ "kne.dev/topology": "lab", "kne.dev/node": "r1" });
  });

  it("puts the boot config in <node>-config, mounted with subPath at config_path/config_file", () => {
    expect(one(r, "ConfigMap").data).toEqual({ "boot.cfg": "boot text" });
    const spec = podSpec(one(r, "Pod"));
    expect(spec.volumes).toEqual([{ name: "startup-config-volume", configMap: { name: "r1-config" } }]);
    expect(spec.containers[0]!.volumeMounts).toEqual([
      { name: "startup-config-volume", mountPath: "/etc/r/boot.cfg", subPath: "boot.cfg", readOnly: true },
    ]);
  });

  it("waits for links + 1 interfaces, then sleeps, in an init container", () => {
    const init = podSpec(one(r, "Pod")).initContainers!;
    expect(init).toHaveLength(1);
    expect(init[0]).toMatchObject({ name: "init-r1", image: "networkop/init-wait:latest", args: ["3", "7"] });
  });

  it("runs the image privileged, env sorted, requests from constraints", () => {
    const c = podSpec(one(r, "Pod")).containers[0]!;
    expect(c).toMatchObject({ name: "r1", image: "alpine:latest", command: ["/bin/sh", "-c", "sleep 2000000000000"], securityContext: { privileged: true } });
    expect(c.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: "250m" } });
  });

  it("schedules like upstream: anti-affinity on hostname, no grace period, pull secrets", () => {
    const spec = podSpec(one(r, "Pod"));
    expect(spec.terminationGracePeriodSeconds).toBe(0);
    expect(spec.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchExpressions: [{ key: "topo", operator: "In", values: ["lab"] }] },
              topologyKey: "kubernetes.io/hostname",
            },
          },
        ],
      },
    });
    expect(spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
  });

  it("makes Service service-<node>, LoadBalancer, port = key, targetPort = inside", () => {
    expect(one(r, "Service").spec).toEqual({
      type: "LoadBalancer",
      selector: { app: "r1" },
      ports: [
        { name: "port-80", protocol: "TCP", port: 80, targetPort: 8080 },
        { name: "port-2022", protocol: "TCP", port: 2022, targetPort: 22 },
      ],
    });
  });

  it("makes no ConfigMap without a config and no Service without services", () => {
    const r2 = objectsOf(t, "r2");
    expect(r2.objects.map((o) => o.kind)).toEqual(["Pod"]);
    expect(podSpec(r2.objects[0]!).volumes).toBeUndefined();
  });

  it("fills requests per key from the vendor's defaults", () => {
    const mixed = pair(`vendor: ARISTA constraints { key: "memory" value: "3Gi" }`);
    const c = podSpec(one(objectsOf(mixed, "dut", { mode: "pod" }), "Pod")).containers[0]!;
    expect(c.resources).toEqual({ requests: { cpu: "0.5", memory: "3Gi" } });
  });

  it("keeps a binary config as binaryData", () => {
    const bin = topology(`name: "lab" nodes { name: "b" vendor: HOST config { data: "\\xff\\xfe\\x00" } }`);
    expect(one(objectsOf(bin, "b"), "ConfigMap").binaryData).toEqual({ config: Buffer.from([0xff, 0xfe, 0]).toString("base64") });
  });
});

describe("configs over the ConfigMap limit", () => {
  const size = 2_500_000;
  const t = topology(`name: "lab" nodes { name: "big" vendor: HOST config { config_path: "/cfg" config_file: "big.cfg" } }`);
  const bytes = new Uint8Array(size).map((_, i) => i % 251);
  t.nodes[0]!.config!.configData = { case: "data", value: bytes };
  const r = objectsOf(t, "big");

  it("splits the config into ConfigMaps that join back to the same bytes", () => {
    const parts = r.objects.filter((o) => o.kind === "ConfigMap");
    expect(parts).toHaveLength(Math.ceil(size / CONFIG_PART_BYTES));
    expect(parts.map((p) => p.metadata.name)).toEqual(["big-config-0", "big-config-1", "big-config-2", "big-config-3"]);
    const joined = Buffer.concat(parts.map((p) => Buffer.from((p.binaryData as { part: string }).part, "base64")));
    expect(joined.equals(Buffer.from(bytes))).toBe(true);
    for (const p of parts) expect(Buffer.from((p.binaryData as { part: string }).part, "base64").length).toBeLessThanOrEqual(CONFIG_MAP_MAX_BYTES);
  });

  it("joins them in an init container into an emptyDir mounted at the config path", () => {
    const spec = podSpec(one(r, "Pod"));
    const [join, wait] = spec.initContainers!;
    expect(join!.name).toBe("join-config");
    expect(join!.command!.slice(3)).toEqual(["join-config", "/kne-config/big.cfg", ...[0, 1, 2, 3].map((i) => `/kne-config-parts/${i}/part`)]);
    expect(wait!.name).toBe("init-big");
    expect(spec.volumes![0]).toEqual({ name: "startup-config-volume", emptyDir: {} });
    expect(spec.containers[0]!.volumeMounts).toEqual([{ name: "startup-config-volume", mountPath: "/cfg/big.cfg", subPath: "big.cfg", readOnly: true }]);
  });

  it("refuses a large config for an operator that reads one ConfigMap, and takes it in pod mode", () => {
    const ceos = pair(`vendor: ARISTA`);
    ceos.nodes[0]!.config = { ...t.nodes[0]!.config!, configPath: "", configFile: "" };
    expect(() => objectsOf(ceos, "dut")).toThrow(/nodes\[dut\]\.config\.data: boot config of 2500000 bytes .* use operator mode "pod"/);
    expect(objectsOf(ceos, "dut", { mode: "pod" }).objects.filter((o) => o.kind === "ConfigMap").length).toBeGreaterThan(3);
  });
});

describe("errors name the topology, the node and the field", () => {
  it("a constraint that is not a quantity", () => {
    const t = topology(`name: "lab" nodes { name: "r1" vendor: HOST constraints { key: "cpu" value: "lots" } }`);
    const e = (() => {
      try {
        objectsOf(t, "r1");
      } catch (err) {
        return err;
      }
    })() as KubeObjectsError;
    expect(e).toBeInstanceOf(KubeObjectsError);
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.field).toBe("nodes[r1].constraints[cpu]");
    expect(e.message).toBe(`topology lab: nodes[r1].constraints[cpu]: "lots" is not a Kubernetes quantity (for example 500m, 2, 4Gi)`);
  });

  it("a config file that was not read in", () => {
    const t = topology(`name: "lab" nodes { name: "r1" vendor: HOST config { file: "r1.cfg" } }`);
    expect(() => objectsOf(t, "r1")).toThrow("topology lab: nodes[r1].config.file: config file r1.cfg was not read in");
  });

  it("a node name Kubernetes refuses, and one too long for its Service", () => {
    const t = topology(`name: "lab" nodes { name: "r1" vendor: HOST }`);
    t.nodes[0]!.name = "R_1";
    expect(() => objectsOf(t, "R_1")).toThrow(/nodes\[R_1\]\.name: "R_1" is not a valid pod name/);
    const long = "n".repeat(60);
    const t2 = topology(`name: "lab" nodes { name: "${long}" vendor: HOST services { key: 22 value { inside: 22 } } }`);
    expect(() => objectsOf(t2, long)).toThrow(/service name service-n+ is longer than 63 characters/);
  });

  it("a bad namespace or pull secret", () => {
    const t = topology(`name: "lab" nodes { name: "r1" vendor: HOST }`);
    expect(() => objectsOf(t, "r1", { namespace: "Bad_NS" })).toThrow(/topology lab: namespace: "Bad_NS" is not a valid Kubernetes namespace name/);
    expect(() => objectsOf(t, "r1", { secrets: ["no/slash"] })).toThrow(/imagePullSecrets: "no\/slash" is not a valid Secret name/);
    const spaced = topology(`name: "my lab" nodes { name: "r1" vendor: HOST }`);
    expect(() => objectsOf(spaced, "r1")).toThrow(`topology my lab: name: topology name "my lab" cannot be a label value`);
  });

  it("an unknown model, from the registry", () => {
    const t = pair(`vendor: CISCO model: "xrd"`);
    t.nodes[0]!.model = "9999";
    expect(() => objectsOf(t, "dut")).toThrow(UnsupportedModelError);
  });
});

describe("ARISTA cEOS", () => {
  const t = pair(
    `vendor: ARISTA config { data: "hostname dut" sleep: 3 cert { self_signed { cert_name: "gnmi.crt" key_name: "gnmi.key" key_size: 2048 common_name: "dut" } }
       vendor_data { [type.googleapis.com/ceos.CEosLabConfig] { toggle_overrides { key: "Flag" value: true } wait_for_agents: "Sysdb" } } }
     interfaces { key: "eth2" value { name: "Ethernet1/2" } }`,
  );

  it("cr: a CEosLabDevice with ports, interface mapping, certificate and vendor data", () => {
    const r = objectsOf(t, "dut");
    expect(r.objects.map((o) => o.kind)).toEqual(["ConfigMap", "CEosLabDevice"]);
    expect(r.operatorCrd).toBe("ceoslabdevices.ceoslab.arista.com");
    expect(r.podSelector).toEqual({ app: "dut" });
    expect(one(r, "ConfigMap").data).toEqual({ "startup-config": "hostname dut" });
    const cr = one(r, "CEosLabDevice");
    expect(cr.apiVersion).toBe("ceoslab.arista.com/v1alpha1");
    expect(cr.spec).toEqual({
      image: "ceos:latest",
      initcontainerimage: "networkop/init-wait:latest",
      numinterfaces: 2,
      sleep: 3,
      resourcerequirements: { cpu: "0.5", memory: "1Gi" },
      services: {
        ssh: { tcpports: [{ in: 22, out: 22 }] },
        ssl: { tcpports: [{ in: 443, out: 443 }] },
        gnmi: { tcpports: [{ in: 6030, out: 6030 }] },
        gribi: { tcpports: [{ in: 9340, out: 9340 }] },
        p4rt: { tcpports: [{ in: 9559, out: 9559 }] },
      },
      intfmapping: { eth1: "Ethernet1", eth2: "Ethernet1/2" },
      certconfig: { selfsignedcerts: [{ certname: "gnmi.crt", keyname: "gnmi.key", keysize: 2048, commonname: "dut" }] },
      toggleoverrides: { Flag: true },
      waitforagents: ["Sysdb"],
    });
  });

  it("pod: /sbin/init with cEOS's boot env as env and systemd.setenv, the mapping file mounted", () => {
    const r = objectsOf(t, "dut", { mode: "pod" });
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/dut-config", "ConfigMap/dut-intfmapping", "Pod/dut", "Service/service-dut"]);
    const c = podSpec(one(r, "Pod")).containers[0]!;
    expect(c.command).toEqual(["/sbin/init"]);
    expect(envOf(c)).toMatchObject({ CEOS: "1", EOS_PLATFORM: "ceoslab", INTFTYPE: "eth", MGMT_INTF: "eth0" });
    expect(c.args).toContain("systemd.setenv=EOS_PLATFORM=ceoslab");
    expect(JSON.parse(one(r, "ConfigMap", "dut-intfmapping").data!["EosIntfMapping.json" as keyof unknown] as string)).toEqual({
      ManagementIntf: { eth0: "Management0" },
      EthernetIntf: { eth1: "Ethernet1", eth2: "Ethernet1/2" },
    });
    expect(c.volumeMounts!.map((m) => m.mountPath)).toEqual(["/mnt/flash/startup-config", "/mnt/flash/EosIntfMapping.json"]);
  });
});

describe("CISCO", () => {
  it("xrd: XR_INTERFACES from the interfaces, boot config env, /run in memory", () => {
    const t = pair(`vendor: CISCO model: "xrd" config { data: "hostname x" } interfaces { key: "eth2" value { name: "GigabitEthernet0/0/0/9" } }`);
    const c = podSpec(one(objectsOf(t, "dut"), "Pod")).containers[0]!;
    expect(envOf(c)).toEqual({
      XR_INTERFACES: "linux:eth1,xr_name=GigabitEthernet0/0/0/0;linux:eth2,xr_name=GigabitEthernet0/0/0/9",
      XR_MGMT_INTERFACES: "linux:eth0,xr_name=MgmtEth0/RP0/CPU0/0,chksum,snoop_v4,snoop_v6",
      XR_EVERY_BOOT_CONFIG: "/startup.cfg",
    });
    expect(c.volumeMounts).toContainEqual({ name: "run", mountPath: "/run" });
    expect(c.resources).toEqual({ requests: { cpu: "1", memory: "2Gi" } });
  });

  it("8000e: ports by the model's layout; the topology's env wins", () => {
    const t = pair(`vendor: CISCO model: "8201" config { env { key: "XR_EVERY_BOOT_CONFIG" value: "/mine.cfg" } }`, `links { a_node: "dut" a_int: "eth30" z_node: "h" z_int: "eth30" }`);
    const env = envOf(podSpec(one(objectsOf(t, "dut"), "Pod")).containers[0]!);
    expect(env.XR_INTERFACES).toBe("MgmtEther0/RP0/CPU0/0:eth0,FourHundredGigE0/0/0/0:eth1,FourHundredGigE0/0/0/1:eth2,HundredGigE0/0/0/29:eth30");
    expect(env.XR_EVERY_BOOT_CONFIG).toBe("/mine.cfg");
    expect(env.XR_CHECKSUM_OFFLOAD_COUNTERACT).toBe("MgmtEther0/RP0/CPU0/0,FourHundredGigE0/0/0/0,FourHundredGigE0/0/0/1,HundredGigE0/0/0/29");
  });

  it("8000e: a port the model does not have", () => {
    const t = pair(`vendor: CISCO model: "8201-32FH"`, `links { a_node: "dut" a_int: "eth33" z_node: "h" z_int: "eth33" }`);
    expect(() => objectsOf(t, "dut")).toThrow("topology lab: nodes[dut].interfaces[eth33]: model 8201-32FH has data ports eth1..eth32; eth33 does not exist");
  });
});

describe("NOKIA SR Linux", () => {
  it("cr: Srlinux with config_data_present, config.json for a JSON config, and our Service", () => {
    const t = pair(`vendor: NOKIA config { data: "{\\"a\\": 1}" }`);
    const r = objectsOf(t, "dut");
    expect(r.objects.map((o) => o.kind)).toEqual(["ConfigMap", "Srlinux", "Service"]);
    expect(one(r, "ConfigMap").data).toEqual({ "config.json": '{"a": 1}' });
    expect(one(r, "Srlinux").spec).toMatchObject({
      config: { image: "srlinux:latest", config_file: "config.json", config_data_present: true },
      "num-interfaces": 2,
      model: "ixrd2",
      constraints: { cpu: "2", memory: "4Gi" },
    });
    expect(one(r, "Service").spec).toMatchObject({ selector: { app: "dut" } });
    expect(r.operatorCrd).toBe("srlinuxes.kne.srlinux.dev");
  });

  it("pod: the controller's entrypoint, config.cli for a CLI config", () => {
    const r = objectsOf(pair(`vendor: NOKIA config { data: "set / system name host-name dut" }`), "dut", { mode: "pod" });
    const c = podSpec(one(r, "Pod")).containers[0]!;
    expect(c.command).toEqual(["/tini", "--", "fixuid", "-q", "/kne-entrypoint.sh"]);
    expect(c.volumeMounts![0]!.mountPath).toBe("/tmp/startup-config/config.cli");
  });
});

describe("OPENCONFIG and DRIVENETS", () => {
  it("LEMMING cr: a Lemming with ports by name, interface count with eth0, default TLS", () => {
    const r = objectsOf(pair(`vendor: OPENCONFIG model: "LEMMING"`), "dut");
    expect(r.operatorCrd).toBe("lemmings.lemming.openconfig.net");
    expect(one(r, "Lemming").spec).toEqual({
      image: "lemming:ga",
      command: "/lemming/lemming",
      initImage: "networkop/init-wait:latest",
      ports: { gnmi: { innerPort: 9339, outerPort: 9339 }, gribi: { innerPort: 9340, outerPort: 9340 } },
      interfaceCount: 3,
      initSleep: 0,
      resources: { requests: { cpu: "500m", memory: "1Gi" } },
      tls: { selfSigned: { commonName: "dut", keySize: 2048 } },
    });
  });

  it("MAGNA is a plain pod in both modes", () => {
    for (const mode of ["cr", "pod"] as const) {
      const r = objectsOf(pair(`vendor: OPENCONFIG model: "MAGNA"`), "dut", { mode });
      expect(r.objects.map((o) => o.kind)).toEqual(["Pod", "Service"]);
      expect(podSpec(one(r, "Pod")).containers[0]!.image).toBe("magna:latest");
    }
  });

  it("CDNOS cr: a Cdnos carrying the node's labels", () => {
    const r = objectsOf(pair(`vendor: DRIVENETS model: "CDNOS" config { data: "cfg" }`), "dut");
    expect(r.objects.map((o) => o.kind)).toEqual(["ConfigMap", "Cdnos"]);
    const spec = one(r, "Cdnos").spec as Record<string, unknown>;
    expect(spec).toMatchObject({ image: "cdnos:latest", command: "/define_notif_net.sh", configPath: "/config_load", configFile: "default" });
    expect(spec.labels).toMatchObject({ vendor: "DRIVENETS", "ondatra-role": "DUT" });
    expect(r.operatorCrd).toBe("cdnos.cdnos.dev.drivenets.net");
  });
});

describe("KEYSIGHT ixia-c", () => {
  const t = pair(`vendor: KEYSIGHT version: "1.2.3"`, `links { a_node: "dut" a_int: "eth3" z_node: "dut" z_int: "eth4" }`);

  it("cr: an IxiaTG; one pod per port plus the controller expected", () => {
    const r = objectsOf(t, "dut");
    expect(r.objects.map((o) => o.kind)).toEqual(["IxiaTG"]);
    expect(r.expectedPods).toBe(5);
    expect(one(r, "IxiaTG").spec).toEqual({
      release: "1.2.3",
      desired_state: "DEPLOYED",
      api_endpoint_map: { https: { in: 8443, out: 8443 }, grpc: { in: 40051, out: 40051 }, gnmi: { in: 50051, out: 50051 } },
      interfaces: [{ name: "eth1" }, { name: "eth2" }, { name: "eth3" }, { name: "eth4" }],
      init_container: { image: "networkop/init-wait:latest", sleep: 0 },
    });
  });

  it("pod: a controller pod behind the Service and one pod per port (back-to-back ports too)", () => {
    const r = objectsOf(t, "dut", { mode: "pod" });
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Pod/dut-controller",
      "Pod/dut-port-eth1",
      "Pod/dut-port-eth2",
      "Pod/dut-port-eth3",
      "Pod/dut-port-eth4",
      "Service/service-dut",
    ]);
    expect(r.expectedPods).toBe(5);
    expect((one(r, "Service").spec as { selector: unknown }).selector).toEqual({ app: "dut", "kne.dev/ixia-role": "controller" });
    const port = podSpec(one(r, "Pod", "dut-port-eth3"));
    expect(envOf(port.containers[0]!).ARG_IFACE_LIST).toBe("virtual@af_packet,eth3");
    expect(port.initContainers![0]!.args).toEqual(["2", "0"]);
  });
});

describe("vendors with vendor data and renamed interfaces", () => {
  it("CIENA: equipment JSON in <node>-file, ports 1/1/<n> are eth<n>", () => {
    const t = topology(`name: "lab"
      nodes { name: "s1" vendor: CIENA config { vendor_data { [type.googleapis.com/ciena.CienaConfig] { system_equipment { mount_dir: "/eq" equipment_json: "{}" } } } } }
      nodes { name: "s2" vendor: CIENA }
      links { a_node: "s1" a_int: "1/1/3" z_node: "s2" z_int: "4" }`);
    const r = objectsOf(t, "s1");
    expect(one(r, "ConfigMap", "s1-file").data).toEqual({ "setup.json": "{}" });
    const c = podSpec(one(r, "Pod")).containers[0]!;
    expect(c.volumeMounts).toContainEqual({ name: "equipment-file", mountPath: "/eq/setup.json", subPath: "setup.json", readOnly: true });
    expect(envOf(c)).toMatchObject({ CLAB_LABEL_CLAB_NODE_NAME: "s1", CLAB_LABEL_CLAB_NODE_TYPE: "5132" });
    expect(podSpec(one(objectsOf(t, "s2"), "Pod")).initContainers![0]!.args).toEqual(["2", "0"]);
  });

  it("CIENA: an equipment file name that was not read in", () => {
    const t = topology(`name: "lab" nodes { name: "s1" vendor: CIENA config { vendor_data { [type.googleapis.com/ciena.CienaConfig] { system_equipment { equipment_json: "eq.json" } } } } }`);
    expect(() => objectsOf(t, "s1")).toThrow(/nodes\[s1\]\.config\.vendor_data\.system_equipment\.equipment_json: must hold the equipment JSON itself/);
  });

  it("ALPINE: the data-plane container with --portMap and --config_file, files mounted in both", () => {
    const t = topology(`name: "lab"
      nodes { name: "a" vendor: ALPINE config { data: "cfg" vendor_data { [type.googleapis.com/alpine.AlpineConfig] {
        containers { name: "dataplane" image: "lucius:latest" command: "/lucius/lucius" args: "-v" }
        files { mount_dir: "/etc/x" files { key: "ports.ini" value { data: "p" } } } } } }
        interfaces { key: "eth1" value { int_name: "Ethernet0" } } }
      nodes { name: "h" vendor: HOST }
      links { a_node: "a" a_int: "eth1" z_node: "h" z_int: "eth1" }`);
    const r = objectsOf(t, "a");
    const [main, dataplane] = podSpec(one(r, "Pod")).containers;
    expect(dataplane).toMatchObject({ name: "dataplane", image: "lucius:latest", command: ["/lucius/lucius"] });
    expect(dataplane!.args).toEqual(["-v", "--portMap=Ethernet0:eth1", "--config_file=/config"]);
    expect(main!.args).toEqual(["--config_file=/config"]);
    expect(one(r, "ConfigMap", "a-files").data).toEqual({ "ports.ini": "p" });
    for (const c of [main!, dataplane!]) expect(c.volumeMounts!.map((m) => m.mountPath)).toEqual(["/config", "/etc/x"]);
  });

  it("SONIC: Ethernet<n> ports are eth<n> in the pod", () => {
    const t = topology(`name: "lab" nodes { name: "s" vendor: SONIC } nodes { name: "h" vendor: HOST }
      links { a_node: "s" a_int: "Ethernet4" z_node: "h" z_int: "eth1" }`);
    expect(podSpec(one(objectsOf(t, "s"), "Pod")).initContainers![0]!.args).toEqual(["2", "0"]);
  });

  it("FORWARD: one --wire argument per wire", () => {
    const t = topology(`name: "lab" nodes { name: "f" vendor: FORWARD config { vendor_data { [type.googleapis.com/forward.ForwardConfig] {
        wires { a { interface { name: "eth1" } } z { local_node { name: "r1" interface: "eth2" } } }
        wires { a { interface { name: "eth2" } } z { remote_node { addr: "192.0.2.1:5000" interface: "eth9" } } } } } } }`);
    expect(podSpec(one(objectsOf(t, "f"), "Pod")).containers[0]!.args).toEqual([
      "--wire=intf:eth1,local:r1/eth2",
      "--wire=intf:eth2,remote:192.0.2.1:5000/eth9",
    ]);
  });

  it("IN_CLUSTER_PROXY: eth1 addressed and up in init steps, then socat, all without a shell", () => {
    const t = topology(`name: "lab"
      nodes { name: "p" vendor: IN_CLUSTER_PROXY labels { key: "proxy-pool-for" value: "r" } labels { key: "peer-ip" value: "10.0.0.1" }
        labels { key: "target-port" value: "22" } services { key: 2222 value { inside: 3000 } } }
      nodes { name: "r" vendor: HOST }
      links { a_node: "p" a_int: "eth1" z_node: "r" z_int: "eth1" }`);
    const spec = podSpec(one(objectsOf(t, "p"), "Pod"));
    expect(spec.initContainers!.map((c) => c.command ?? c.args)).toEqual([
      ["2", "0"],
      ["ip", "addr", "replace", "10.0.0.0/31", "dev", "eth1"],
      ["ip", "link", "set", "eth1", "up"],
    ]);
    expect(spec.containers[0]!.command).toEqual(["socat", "-d", "-d", "TCP-LISTEN:3000,reuseaddr,fork", "TCP:10.0.0.1:22"]);
  });

  it("IN_CLUSTER_PROXY: refuses a proxy for no node", () => {
    const t = topology(`name: "lab" nodes { name: "p" vendor: IN_CLUSTER_PROXY services { key: 1 value { inside: 1 } } } nodes { name: "r" vendor: HOST }
      links { a_node: "p" a_int: "eth1" z_node: "r" z_int: "eth1" }`);
    expect(() => objectsOf(t, "p")).toThrow("topology lab: nodes[p].labels[proxy-pool-for]: the proxy needs label proxy-pool-for naming the node it serves");
  });

  it("FRR: a daemons file enabling what the config needs", () => {
    const t = topology(`name: "lab" nodes { name: "f" vendor: FRR config { data: "router bgp 1\\n!\\nrouter ospf\\n" env { key: "FRR_DAEMONS" value: "bfdd" } } }`);
    const r = objectsOf(t, "f");
    const daemons = one(r, "ConfigMap", "f-daemons").data as Record<string, string>;
    expect(daemons.daemons).toContain("bgpd=yes\nospfd=yes\n");
    expect(daemons.daemons).toContain("bfdd=yes");
    expect(daemons.daemons).toContain("isisd=no");
    const c = podSpec(one(r, "Pod")).containers[0]!;
    expect(c.image).toBe("frrouting/frr:latest");
    expect(c.volumeMounts!.map((m) => m.mountPath)).toEqual(["/etc/frr/frr.conf", "/etc/frr/daemons"]);
  });

  it("GOBGP and BIRD: their config files where their daemons read them", () => {
    const t = topology(`name: "lab" nodes { name: "g" vendor: GOBGP config { data: "g" } } nodes { name: "b" vendor: BIRD config { data: "b" } }`);
    expect(podSpec(one(objectsOf(t, "g"), "Pod")).containers[0]!.volumeMounts![0]!.mountPath).toBe("/gobgp.conf");
    expect(podSpec(one(objectsOf(t, "b"), "Pod")).containers[0]!.volumeMounts![0]!.mountPath).toBe("/etc/bird/bird.conf");
  });
});

describe("every vendor and model", () => {
  const registryHost = /^[^/]*[.:][^/]*\//;
  for (const vendor of vendorRegistry) {
    const models = vendor.models.length > 0 ? vendor.models.map((m) => m.name) : [""];
    for (const model of models) {
      for (const mode of ["cr", "pod"] as const) {
        it(`${vendor.name} ${model} (${mode}): images without a registry host, labels and selectors consistent`, () => {
          const extra =
            vendor.name === "IN_CLUSTER_PROXY" ? `labels { key: "proxy-pool-for" value: "h" } services { key: 1 value { inside: 1 } }` : "";
          const t = topology(`name: "lab" nodes { name: "dut" vendor: ${vendor.name} ${model ? `model: "${model}"` : ""} ${extra} }
            nodes { name: "h" vendor: HOST } links { a_node: "dut" a_int: "eth1" z_node: "h" z_int: "eth1" }`);
          const r = objectsOf(t, "dut", { mode });
          const pods = r.objects.filter((o) => o.kind === "Pod");
          if (mode === "pod") expect(pods.length).toBe(r.expectedPods);
          for (const p of pods) {
            const spec = podSpec(p);
            for (const c of [...(spec.initContainers ?? []), ...spec.containers]) expect(c.image, c.image).not.toMatch(registryHost);
            for (const [k, v] of Object.entries(r.podSelector)) expect(p.metadata.labels![k]).toBe(v);
          }
          for (const o of r.objects) {
            const image = (o.spec as { image?: string } | undefined)?.image;
            if (image) expect(image).not.toMatch(registryHost);
          }
          expect(r.objects.at(-1)!.kind === "Service" || r.objects.every((o) => o.kind !== "Service")).toBe(true);
        });
      }
    }
  }
});
