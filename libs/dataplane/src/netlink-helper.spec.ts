import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Batch, KernelOperation } from "./batch.ts";
import { helperPython, helperSpec, helperSupports, splitHelperOutput } from "./netlink-helper.ts";

function op(netns: string, line: string, tool: KernelOperation["tool"] = "ip"): KernelOperation {
  return { phase: "setup", tool, netns, args: line.split(" "), object: `netns ${netns}` };
}

describe("netlink helper", () => {
  it("takes the setup lines it implements, in named namespaces only", () => {
    expect(helperSupports(op("ns1", "link set dev eth1 alias kne:t:1 up"))).toBe(true);
    expect(helperSupports(op("ns1", "link set dev eth1 mtu 9000 address 02:00:00:00:00:01 master br0 down"))).toBe(true);
    expect(helperSupports(op("ns1", "addr replace 10.0.0.1/24 dev eth0"))).toBe(true);
    expect(helperSupports(op("ns1", "addr replace 2001:db8::1/64 dev eth0"))).toBe(true);
    expect(helperSupports(op("ns1", "link set dev lo up"))).toBe(true);
  });

  it("leaves everything else to ip", () => {
    expect(helperSupports(op("", "link set dev eth1 up"))).toBe(false); // the host namespace
    expect(helperSupports(op("ns1", "link add a type veth peer name b"))).toBe(false);
    expect(helperSupports(op("ns1", "link set dev eth1 netns other"))).toBe(false);
    expect(helperSupports(op("ns1", "link set dev eth1 mtu big"))).toBe(false);
    expect(helperSupports(op("ns1", "link set dev eth1 alias"))).toBe(false);
    expect(helperSupports(op("ns1", "link set dev eth1 address 0200"))).toBe(false);
    expect(helperSupports(op("ns1", "addr add 10.0.0.1/24 dev eth0"))).toBe(false);
    expect(helperSupports(op("ns1", "addr replace 10.0.0.1 dev eth0"))).toBe(false);
    expect(helperSupports(op("ns1", "qdisc del dev eth0 root", "tc"))).toBe(false);
  });

  it("writes one `ns` header per batch, then its lines", () => {
    const batches: Batch[] = [
      { phase: "setup", tool: "ip", netns: "a", operations: [op("a", "link set dev lo up"), op("a", "link set dev e1 up")] },
      { phase: "setup", tool: "ip", netns: "b", operations: [op("b", "addr replace 10.0.0.2/24 dev e2")] },
    ];
    expect(helperSpec(batches)).toBe("ns a\nlink set dev lo up\nlink set dev e1 up\nns b\naddr replace 10.0.0.2/24 dev e2\n");
  });

  it("splits its report per batch, in ip's words", () => {
    const stderr = ["@@ 0", "@@ 1", 'Cannot find device "e9"', "Command failed -:2", "@@ 2", "@@ end", ""].join("\n");
    expect(splitHelperOutput(stderr, 3)).toEqual([
      { done: true, stderr: "" },
      { done: true, stderr: 'Cannot find device "e9"\nCommand failed -:2' },
      { done: true, stderr: "" },
    ]);
  });

  it("counts the batch it was in when it stopped, and those after, as not done", () => {
    const stderr = ["@@ 0", "@@ 1", "Traceback (most recent call last):", "  oops"].join("\n");
    const chunks = splitHelperOutput(stderr, 3);
    expect(chunks.map((c) => c.done)).toEqual([true, false, false]);
    expect(splitHelperOutput("", 2).map((c) => c.done)).toEqual([false, false]);
  });

  it("runs the system's python3 before PATH's, and PATH's when there is none", () => {
    // Debian's package (what install-deps.sh installs) is /usr/bin/python3.
    expect(helperPython()).toBe("/usr/bin/python3");
    expect(helperPython(["/nonexistent/python3", "/usr/bin/python3"])).toBe("/usr/bin/python3");
    expect(helperPython(["/nonexistent/python3"])).toBe("python3");
    // Present but not executable does not count.
    const dir = mkdtempSync(join(tmpdir(), "kne-helper-python-"));
    try {
      writeFileSync(join(dir, "python3"), "", { mode: 0o644 });
      expect(helperPython([join(dir, "python3")])).toBe("python3");
      chmodSync(join(dir, "python3"), 0o755);
      expect(helperPython([join(dir, "python3")])).toBe(join(dir, "python3"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
