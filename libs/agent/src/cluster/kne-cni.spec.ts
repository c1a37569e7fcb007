// The chained CNI plugin run as the runtime runs it: a process with the CNI variables in its
// environment and the network configuration on stdin.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cniPluginSource } from "./cni-install.ts";

const prevResult = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eth0", mac: "0a:58:c6:12:80:05", sandbox: "/var/run/netns/cni-1" }],
  ips: [{ address: "198.18.128.5/18", gateway: "198.18.128.1", interface: 0 }],
  routes: [{ dst: "198.18.0.0/15" }],
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kne-cni-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function plugin(command: string, config: object | string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cniPluginSource], {
    input: typeof config === "string" ? config : JSON.stringify(config),
    env: { PATH: process.env.PATH ?? "", CNI_COMMAND: command, CNI_CONTAINERID: "abc123", CNI_NETNS: "/var/run/netns/cni-1", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=lab;K8S_POD_NAME=r1;K8S_POD_UID=u-1", ...env },
    encoding: "utf8",
  });
  return { status: r.status, out: r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
}

const conf = () => ({ cniVersion: "1.0.0", name: "pods", type: "kne-cni", handoffDir: join(dir, "pods"), prevResult });

describe("kne-cni plugin", () => {
  it("ADD passes the previous result through unchanged and writes the handoff", () => {
    const r = plugin("ADD", conf());
    expect(r.status).toBe(0);
    expect(r.out).toEqual(prevResult);
    const record = JSON.parse(readFileSync(join(dir, "pods", "abc123.json"), "utf8")) as Record<string, string>;
    expect(record).toMatchObject({ containerId: "abc123", netns: "/var/run/netns/cni-1", podNamespace: "lab", podName: "r1", podUid: "u-1", ifName: "eth0" });
    expect(plugin("CHECK", conf()).status).toBe(0);
    expect(plugin("CHECK", conf(), { CNI_NETNS: "/var/run/netns/cni-2" }).out).toMatchObject({ code: 3 });
  });

  it("DEL removes the handoff and is idempotent", () => {
    plugin("ADD", conf());
    const { prevResult: _p, ...withoutPrev } = conf();
    expect(plugin("DEL", withoutPrev)).toEqual({ status: 0, out: undefined });
    expect(existsSync(join(dir, "pods", "abc123.json"))).toBe(false);
    expect(plugin("DEL", withoutPrev)).toEqual({ status: 0, out: undefined });
  });

  it("a sandbox that is no pod passes through without a handoff", () => {
    expect(plugin("ADD", conf(), { CNI_ARGS: "IgnoreUnknown=1" }).out).toEqual(prevResult);
    expect(existsSync(join(dir, "pods"))).toBe(false);
  });

  it("VERSION, and errors in the CNI error format", () => {
    expect(plugin("VERSION", "").out).toMatchObject({ supportedVersions: expect.arrayContaining(["1.0.0", "0.4.0"]) });
    const { prevResult: _p, ...withoutPrev } = conf();
    expect(plugin("ADD", withoutPrev)).toMatchObject({ status: 1, out: { code: 7, msg: expect.stringContaining("chained plugin") } });
    expect(plugin("ADD", "{nope")).toMatchObject({ status: 1, out: { code: 6 } });
    expect(plugin("ADD", { ...conf(), cniVersion: "9.9.9" })).toMatchObject({ status: 1, out: { code: 1 } });
    expect(plugin("ADD", conf(), { CNI_CONTAINERID: "../x" })).toMatchObject({ status: 1, out: { code: 4 } });
    expect(plugin("ADD", conf(), { CNI_ARGS: "K8S_POD_NAMESPACE=lab;K8S_POD_NAME=../etc" })).toMatchObject({ status: 1, out: { code: 4 } });
  });

  it("a handoff it cannot write fails ADD with 'try again later' (11)", () => {
    execFileSync("touch", [join(dir, "file")]);
    expect(plugin("ADD", { ...conf(), handoffDir: join(dir, "file", "pods") })).toMatchObject({ status: 1, out: { code: 11 } });
  });
});
