import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installCniPlugin, installNodeRuntime, uninstallCniPlugin } from "./cni-install.ts";

let dir: string;
let binDir: string;
let confDir: string;
const primary = { cniVersion: "1.0.0", name: "pods", plugins: [{ type: "bridge", bridge: "br0" }, { type: "portmap" }] };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kne-cni-install-"));
  binDir = join(dir, "bin");
  confDir = join(dir, "net.d");
  mkdirSync(binDir);
  mkdirSync(confDir);
  writeFileSync(join(confDir, "10-pods.conflist"), JSON.stringify(primary));
  writeFileSync(join(confDir, "99-other.conflist"), JSON.stringify(primary));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const options = () => ({ binDir, confDir, handoffDir: "/var/lib/kne/agent/pods", nodePath: "/usr/local/bin/node" });

describe("installCniPlugin", () => {
  it("copies the plugin with the node's runtime and chains it last in the first conflist, once", () => {
    const report = installCniPlugin(options());
    expect(report).toMatchObject({ pluginPath: join(binDir, "kne-cni"), conflistPath: join(confDir, "10-pods.conflist"), changed: true });
    const plugin = readFileSync(report.pluginPath, "utf8");
    expect(plugin.split("\n")[0]).toBe("#!/usr/local/bin/node");
    expect(plugin).toContain("CNI_COMMAND");
    expect(statSync(report.pluginPath).mode & 0o777).toBe(0o755);
    const list = JSON.parse(readFileSync(report.conflistPath, "utf8")) as typeof primary;
    expect(list.plugins).toEqual([...primary.plugins, { type: "kne-cni", handoffDir: "/var/lib/kne/agent/pods" }]);
    expect(JSON.parse(readFileSync(join(confDir, "99-other.conflist"), "utf8"))).toEqual(primary);
    expect(installCniPlugin(options()).changed).toBe(false);
    uninstallCniPlugin({ confDir });
    expect(JSON.parse(readFileSync(report.conflistPath, "utf8"))).toEqual(primary);
    // Sandboxes set up with the plugin still run it on DEL.
    expect(statSync(report.pluginPath).isFile()).toBe(true);
  });

  it("refuses what it cannot chain into, naming the file", () => {
    rmSync(join(confDir, "10-pods.conflist"));
    writeFileSync(join(confDir, "05-single.conf"), JSON.stringify({ type: "bridge" }));
    expect(() => installCniPlugin(options())).toThrow(/05-single\.conf is a single-plugin configuration/);
    rmSync(confDir, { recursive: true });
    mkdirSync(confDir);
    expect(() => installCniPlugin(options())).toThrow(/no CNI network configuration/);
    expect(() => installCniPlugin({ ...options(), binDir: "bin" })).toThrow(/absolute path/);
  });

  it("copies a runtime for the plugin once", () => {
    const source = join(dir, "fake-node");
    writeFileSync(source, "#!/bin/sh\n");
    const path = installNodeRuntime(join(dir, "runtime"), source);
    expect(readFileSync(path, "utf8")).toBe("#!/bin/sh\n");
    expect(statSync(path).mode & 0o777).toBe(0o755);
    const first = statSync(path).ino;
    installNodeRuntime(join(dir, "runtime"), source);
    expect(statSync(path).ino).toBe(first);
  });
});
