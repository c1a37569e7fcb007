import { describe, expect, it } from "vitest";
import { detectTopologyFormat, topologyFileExtension } from "./format";
import { configFileNameProblem, labelKeyProblem, labelValueProblem, linuxInterfaceNameProblem, rfc1123LabelProblem, sysctlNameProblem } from "./names";

describe("name rules", () => {
  it("RFC 1123 labels", () => {
    for (const ok of ["r1", "8000e1", "saos-1", "a", "a".repeat(63)]) expect(rfc1123LabelProblem(ok)).toBeUndefined();
    for (const bad of ["", "R1", "-r1", "r1-", "r_1", "r.1", "a".repeat(64), "..", "a/b"]) expect(rfc1123LabelProblem(bad)).toBeDefined();
  });

  it("Linux interface names", () => {
    for (const ok of ["eth1", "e1-1", "1", "eno0", "Ethernet1", "a".repeat(15), "eth1.100", "é"]) {
      expect(linuxInterfaceNameProblem(ok)).toBeUndefined();
    }
    for (const bad of ["", ".", "..", "a/b", "a:b", "a b", "a\tb", "a\u0001", "a".repeat(16), "é".repeat(8)]) {
      expect(linuxInterfaceNameProblem(bad)).toBeDefined();
    }
  });

  it("file names inside a node, labels and kernel parameters", () => {
    expect(configFileNameProblem("startup-config")).toBeUndefined();
    expect(configFileNameProblem("juniper.conf")).toBeUndefined();
    expect(configFileNameProblem("a/b")).toBeDefined();
    expect(configFileNameProblem("..")).toBeDefined();
    expect(labelKeyProblem("ondatra-role")).toBeUndefined();
    expect(labelKeyProblem("kne.dev/topology")).toBeUndefined();
    expect(labelKeyProblem("Kne.Dev/x")).toBeDefined();
    expect(labelKeyProblem("")).toBeDefined();
    expect(labelValueProblem("")).toBeUndefined();
    expect(labelValueProblem("DUT")).toBeUndefined();
    expect(labelValueProblem("-x")).toBeDefined();
    expect(sysctlNameProblem("net.ipv4.ip_forward")).toBeUndefined();
    expect(sysctlNameProblem("fs/inotify/max_user_instances")).toBeUndefined();
    expect(sysctlNameProblem("../x")).toBeDefined();
    expect(sysctlNameProblem("/proc/x")).toBeDefined();
  });
});

describe("detectTopologyFormat", () => {
  it("knows upstream's and protobuf's file endings", () => {
    expect(detectTopologyFormat("a/ceos.pb.txt")).toBe("textproto");
    expect(detectTopologyFormat("x.PBTXT")).toBe("textproto");
    expect(detectTopologyFormat("x.textproto")).toBe("textproto");
    expect(detectTopologyFormat("x.txtpb")).toBe("textproto");
    expect(detectTopologyFormat("x.txt")).toBe("textproto");
    expect(detectTopologyFormat("x.yml")).toBe("yaml");
    expect(detectTopologyFormat("x.yaml")).toBe("yaml");
    expect(detectTopologyFormat("x.json")).toBe("json");
    expect(detectTopologyFormat("x.toml")).toBeUndefined();
    expect(topologyFileExtension("textproto")).toBe(".pb.txt");
    expect(topologyFileExtension("yaml")).toBe(".yaml");
  });
});
