/**
 * The images, used without a container runtime: `tools/images/build.sh` builds them (or
 * finds them in the cache), each archive is unpacked with our own extractor, and its
 * programs run under chroot in fresh mount and PID namespaces (a fresh network namespace
 * where a daemon listens): every app answers `--help` as the image's user, the agent's tools
 * and the vendor daemons answer `--version`, FRR starts as its pod would and applies its
 * config, init-wait waits for interfaces. A second build from nothing gives the same digests.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageBuilder } from "../src/image-build.ts";
import { unpackImageArchive } from "../src/oci-unpack.ts";

const run = promisify(execFile);
const workspaceRoot = resolve(import.meta.dirname, "../../..");
const cacheRoot = process.env.KNE_IMAGES_CACHE || "/var/cache/kne-images";
const skipReason = process.getuid?.() !== 0 ? "the images test needs root (apt, chroot, namespaces)" : undefined;
if (skipReason) console.log(`images: skipped: ${skipReason}`);
// containerd is the real node's runtime (installed by its setup); where it is absent the import check says so.
const containerdDir = process.env.KNE_CONTAINERD_BIN_DIR || "/usr/bin";
const containerdSkip = ["containerd", "ctr"].every((b) => existsSync(join(containerdDir, b)))
  ? undefined
  : `no containerd in ${containerdDir} (Debian's containerd package; KNE_CONTAINERD_BIN_DIR names another folder)`;
if (!skipReason && containerdSkip) console.log(`images: containerd import check skipped: ${containerdSkip}`);

interface Listed {
  name: string;
  ref: string;
  tag: string;
  digest: string;
  size: number;
  unpackedSize: number;
  file: string;
  vendor?: string;
  app?: string;
  user: number;
}
interface ImageConfig {
  config: { User: string; Env: string[]; Entrypoint?: string[]; Cmd?: string[] };
}

const temps: string[] = [];
let images: Listed[] = [];
const roots = new Map<string, { root: string; config: ImageConfig }>();

async function unpacked(name: string): Promise<{ root: string; config: ImageConfig }> {
  let found = roots.get(name);
  if (!found) {
    const image = images.find((i) => i.name === name);
    if (!image) throw new Error(`no image ${name} in the list`);
    const root = await mkdtemp(join(cacheRoot, "test-root-"));
    temps.push(root);
    const { config } = await unpackImageArchive(image.file, root);
    found = { root, config: config as unknown as ImageConfig };
    roots.set(name, found);
  }
  return found;
}

/** Runs argv inside the image root: chroot in new mount and PID namespaces, the image's environment only. */
async function inImage(name: string, argv: string[], opts: { user?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { root, config } = await unpacked(name);
  const userspec = opts.user ?? config.config.User;
  try {
    const r = await run(
      "/usr/bin/env",
      ["-i", ...config.config.Env, "/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child", "/usr/sbin/chroot", `--userspec=${userspec}`, root, ...argv],
      { timeout: opts.timeoutMs ?? 60_000, killSignal: "SIGKILL", maxBuffer: 16 << 20 },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

/**
 * A fixed script run in fresh network, mount and PID namespaces: the image root is $1, the
 * rest are its arguments. Mounts made here vanish with the namespaces.
 */
async function inNamespaces(script: string, root: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  try {
    // unshare ignores SIGTERM while its child runs: SIGKILL it, and --kill-child takes the namespace's processes along.
    const r = await run("/usr/bin/unshare", ["--net", "--mount", "--pid", "--fork", "--kill-child", "/bin/sh", "-c", script, "sh", root, ...args], {
      timeout: timeoutMs,
      killSignal: "SIGKILL",
      maxBuffer: 16 << 20,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : 1, out: (err.stdout ?? "") + (err.stderr ?? "") };
  }
}

describe.skipIf(skipReason !== undefined)("images built here, used without a container runtime", () => {
  beforeAll(async () => {
    const started = performance.now();
    const r = await run("bash", [join(workspaceRoot, "tools/images/build.sh")], { cwd: workspaceRoot, timeout: 40 * 60_000, maxBuffer: 64 << 20 });
    console.log(r.stdout.trim());
    console.log(`images: build.sh took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    images = (JSON.parse(await readFile(join(cacheRoot, "images.json"), "utf8")) as { images: Listed[] }).images;
  }, 45 * 60_000);

  afterAll(async () => {
    for (const t of temps) await rm(t, { recursive: true, force: true });
  });

  it("lists every image under deploy/images with a content-addressed local ref, digest, sizes and archive", async () => {
    const names = images.map((i) => i.name).sort();
    expect(names).toEqual(["bird", "config-bootstrapper", "frr", "gobgp", "host", "init-wait", "service-exposer", "topology-agent", "topology-manager"]);
    for (const i of images) {
      expect(i.ref).toBe(`localhost/kne/${i.name}:${i.tag}`);
      expect(i.tag).toMatch(/^[0-9a-f]{16}$/);
      expect(i.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(existsSync(i.file)).toBe(true);
      expect(i.size).toBeGreaterThan(1e6);
      expect(i.unpackedSize).toBeGreaterThan(i.size);
    }
    expect(images.filter((i) => i.vendor).map((i) => i.vendor).sort()).toEqual(["BIRD", "FRR", "GOBGP", "HOST"]);
    // Only the agent runs as root among the apps.
    expect(Object.fromEntries(images.filter((i) => i.app).map((i) => [i.app, i.user]))).toEqual({
      "config-bootstrapper": 65532,
      "service-exposer": 65532,
      "topology-agent": 0,
      "topology-manager": 65532,
    });
  });

  it.each(["topology-manager", "topology-agent", "config-bootstrapper", "service-exposer"])("%s answers --help inside its image, as the image's user", async (app) => {
    const { config, root } = await unpacked(app);
    expect(config.config.Entrypoint?.[0]).toMatch(/^\/opt\/kne\/node\/[\d.]+\/bin\/node$/);
    const r = await inImage(app, [...config.config.Entrypoint!, "--help"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: ${app}`);
    // Nothing a running program does not need.
    for (const absent of ["usr/share/man", "usr/share/locale", "var/lib/apt", "usr/bin/gcc", "usr/bin/npm"]) expect(existsSync(join(root, absent))).toBe(false);
  });

  it("gives the agent the kernel tools it runs", async () => {
    const checks: Array<[string[], RegExp]> = [
      [["ip", "-V"], /iproute2/],
      [["tc", "-V"], /iproute2/],
      [["bridge", "-V"], /bridge utility/],
      [["nft", "--version"], /nftables v1/],
      [["nsenter", "--version"], /util-linux/],
      [["xargs", "--version"], /findutils/],
      [["sysctl", "--version"], /procps/],
      [["python3", "-I", "-S", "-c", "import ctypes, os, socket, struct, sys; print('netlink helper modules load')"], /modules load/],
    ];
    for (const [argv, expected] of checks) {
      const r = await inImage("topology-agent", argv);
      expect(r.code, argv.join(" ")).toBe(0);
      expect(r.stdout, argv.join(" ")).toMatch(expected);
    }
    const bootstrapper = await inImage("config-bootstrapper", ["openssl", "version"]);
    expect(bootstrapper.stdout).toMatch(/^OpenSSL 3/);
  });

  it("runs the vendor daemons in their node images", async () => {
    expect((await inImage("frr", ["/usr/lib/frr/zebra", "--version"])).stdout).toMatch(/zebra version 8/);
    expect((await inImage("frr", ["/usr/lib/frr/bgpd", "--version"])).stdout).toMatch(/bgpd version 8/);
    const gobgp = await unpacked("gobgp");
    // The command upstream's GoBGP pods run.
    expect(gobgp.config.config.Cmd).toEqual(["/usr/local/bin/gobgpd", "-f", "/gobgp.conf", "-t", "yaml"]);
    expect((await inImage("gobgp", ["/usr/local/bin/gobgpd", "--version"])).stdout).toMatch(/gobgpd version 3/);
    expect((await inImage("gobgp", ["/usr/local/bin/gobgp", "--version"])).stdout).toMatch(/gobgp version 3/);
    expect((await inImage("bird", ["bird", "--version"])).stderr + (await inImage("bird", ["bird", "--version"])).stdout).toMatch(/BIRD version 2/);
    expect((await inImage("bird", ["birdc", "--help"])).code).not.toBe(127);
    // HOST pods run `/bin/sh -c "sleep ..."`; kubectl exec gives sh, ping, ip.
    const host = await inImage("host", ["/bin/sh", "-c", "sleep 0 && ping -V && ip -V && echo host-ok"]);
    expect(host.code).toBe(0);
    expect(host.stdout).toMatch(/iputils[\s\S]*iproute2[\s\S]*host-ok/);
  });

  it("starts FRR as its pod does: watchfrr brings up the daemons /etc/frr/daemons enables and applies frr.conf", async () => {
    const { root } = await unpacked("frr");
    await writeFile(
      join(root, "etc/frr/frr.conf"),
      ["frr defaults traditional", "hostname image-test", "log stdout", "service integrated-vtysh-config", "!", "router bgp 65001", " bgp router-id 192.0.2.1", "!", ""].join("\n"),
    );
    const daemons = await readFile(join(root, "etc/frr/daemons"), "utf8");
    await writeFile(join(root, "etc/frr/daemons"), daemons.replace(/^bgpd=no$/m, "bgpd=yes"));
    const script = [
      'root="$1"',
      "ip link set lo up",
      'mount -t proc proc "$root/proc"',
      'mount -t tmpfs tmpfs "$root/run"',
      'mount -t tmpfs tmpfs "$root/tmp"',
      'TINI_SUBREAPER=1 chroot "$root" /usr/bin/tini -- /usr/lib/frr/docker-start >/dev/null 2>&1 &',
      "i=0",
      "while [ $i -lt 60 ]; do",
      '  if chroot "$root" /usr/bin/vtysh -c "show running-config" 2>/dev/null | grep -q "router bgp 65001"; then break; fi',
      "  i=$((i + 1)); sleep 0.5",
      "done",
      'chroot "$root" /usr/bin/vtysh -c "show daemons"',
      'chroot "$root" /usr/bin/vtysh -c "show running-config"',
    ].join("\n");
    const r = await inNamespaces(script, root, [], 90_000);
    expect(r.out).toMatch(/zebra/);
    expect(r.out).toMatch(/bgpd/);
    expect(r.out).toMatch(/router bgp 65001[\s\S]*bgp router-id 192\.0\.2\.1/);
  });

  it("init-wait waits until the pod has its interfaces", async () => {
    const { root } = await unpacked("init-wait");
    // A veth pair gives two interfaces besides lo: asking for two returns, asking for three keeps waiting.
    const script = ['root="$1"; shift', "ip link add eth0 type veth peer name eth1", 'mount -t sysfs sysfs "$root/sys"', 'exec chroot "$root" /usr/local/bin/init-wait "$@"'].join("\n");
    const enough = await inNamespaces(script, root, ["2", "0"], 20_000);
    expect(enough.out).toContain("init-wait: 2 interfaces present");
    expect(enough.code).toBe(0);
    const waiting = await inNamespaces(script, root, ["3", "0"], 2_500);
    expect(waiting.out).toContain("init-wait: 2 of 3 interfaces");
    expect(waiting.code).not.toBe(0);
    const bad = await inNamespaces(script, root, ["two", "0"], 20_000);
    expect(bad.out).toContain("INTERFACES must be a whole number");
  });

  it("builds the same digests again from nothing (packages, Node, an app, image files)", async () => {
    const scratch = await mkdtemp(join(cacheRoot, "reproduce-"));
    temps.push(scratch);
    const builder = new ImageBuilder({
      workspaceRoot,
      imagesDir: join(workspaceRoot, "deploy/images"),
      cacheRoot: scratch,
      debCache: join(cacheRoot, "debs"),
      mtime: Number(process.env.SOURCE_DATE_EPOCH ?? "0"),
      log: () => {},
    });
    for (const name of ["host", "init-wait", "service-exposer"]) {
      const again = await builder.build(name);
      const first = images.find((i) => i.name === name)!;
      expect(again.cached).toBe(false);
      expect(again.tag).toBe(first.tag);
      expect(again.digest, `${name} built twice`).toBe(first.digest);
    }
  }, 20 * 60_000);

  it.skipIf(containerdSkip !== undefined)("containerd imports every archive under its ref and digest, and runs the host and manager images", async () => {
    // A private containerd: its own root, state and socket, the CRI plugin off; stopped by its pid.
    const dir = await mkdtemp(join(tmpdir(), "kne-containerd-"));
    const config = [
      "version = 2",
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = "${dir}/containerd.sock"`,
      "[ttrpc]",
      `  address = "${dir}/containerd-ttrpc.sock"`,
      "[debug]",
      '  address = ""',
      "[metrics]",
      '  address = ""',
      "",
    ].join("\n");
    await writeFile(join(dir, "config.toml"), config);
    const env = { PATH: `${containerdDir}:/usr/sbin:/usr/bin:/sbin:/bin` };
    const daemon = spawn(join(containerdDir, "containerd"), ["--config", join(dir, "config.toml")], { env, stdio: "ignore" });
    const ctr = (...args: string[]) =>
      run(join(containerdDir, "ctr"), ["--address", join(dir, "containerd.sock"), "-n", "k8s.io", ...args], { env, timeout: 120_000, killSignal: "SIGKILL", maxBuffer: 16 << 20 });
    try {
      for (let i = 0; ; i++) {
        if (await ctr("version").then(() => true, () => false)) break;
        if (i > 100) throw new Error("the private containerd did not answer within 20 s");
        await new Promise((r) => setTimeout(r, 200));
      }
      for (const image of images) {
        const r = await ctr("images", "import", image.file);
        expect(r.stdout).toContain(`${image.ref} (${image.digest})`);
      }
      const listed = (await ctr("images", "ls", "-q")).stdout.split("\n");
      for (const image of images) expect(listed).toContain(image.ref);
      if (existsSync("/usr/sbin/runc") || existsSync(join(containerdDir, "runc"))) {
        const host = images.find((i) => i.name === "host")!;
        const shell = await ctr("run", "--rm", host.ref, `kne-images-host-${process.pid}`, "/bin/sh", "-c", "echo host image runs; ip -V");
        expect(shell.stdout).toMatch(/host image runs[\s\S]*iproute2/);
        const manager = images.find((i) => i.name === "topology-manager")!;
        // ctr's command replaces entry point and arguments: give the image's entry point again.
        const entrypoint = (await unpacked("topology-manager")).config.config.Entrypoint!;
        const help = await ctr("run", "--rm", manager.ref, `kne-images-manager-${process.pid}`, ...entrypoint, "--help");
        expect(help.stdout).toContain("Usage: topology-manager");
      } else {
        console.log("images: containerd imported every image; running them needs runc, which is not installed");
      }
    } finally {
      daemon.kill("SIGTERM");
      await new Promise((r) => (daemon.exitCode !== null ? r(undefined) : daemon.once("exit", r)));
      await rm(dir, { recursive: true, force: true });
    }
  }, 10 * 60_000);
});
