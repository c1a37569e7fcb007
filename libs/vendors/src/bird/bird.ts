/**
 * BIRD 2 on the local backend: one `bird -f` with the node's config, its control socket in
 * the node directory. Files under `nodeDir/bird/`: `boot.conf`, `bird.conf` (the config in
 * force, the file bird reads at start and on `configure`), `bird.ctl` (control socket),
 * `bird.pid`. Push and reset replace the config in force, checked first with `bird -p`,
 * then applied with `birdc configure` (BIRD reconfigures in place; only protocols whose
 * config changed restart).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { isIPv4 } from "node:net";
import { topo } from "@kne/proto";
import { ConfigRejectedError, LocalPreconditionError, NodeCommandError, summarizeOutput } from "../errors";
import type { LocalNodeContext, LocalRuntime, ProcessSpec } from "../local-runtime";
import { configText, pollUntil, withNodeLock } from "../node-exec";
import { checkNodeDir, checkSocketPath, ensureDirectory, readFileIfExists, requireExecutables, writeFileAtomic } from "../node-files";
import { birdInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

const binaries = { daemon: "bird", cli: "birdc" } as const;

const RECONFIGURE_TIMEOUT_MS = 20_000;

interface BirdLayout {
  dir: string;
  boot: string;
  inForce: string;
  socket: string;
  pidFile: string;
}

function layout(ctx: LocalNodeContext): BirdLayout {
  const dir = join(ctx.nodeDir, "bird");
  return {
    dir,
    boot: join(dir, "boot.conf"),
    inForce: join(dir, "bird.conf"),
    socket: join(dir, "bird.ctl"),
    pidFile: join(dir, "bird.pid"),
  };
}

/**
 * The config of a node that has none: devices scanned, logs to stderr (so the supervisor
 * keeps them). BIRD needs a router id; the management address is the natural one.
 */
export function defaultBirdConfig(managementAddress: string | undefined, nodeName: string): string {
  const routerId = managementAddress && isIPv4(managementAddress) ? managementAddress : routerIdFromName(nodeName);
  return [`log stderr all;`, `router id ${routerId};`, `protocol device {`, `}`, ``].join("\n");
}

/** A stable router id in 10.255.0.0/16 for a node without an IPv4 management address. */
function routerIdFromName(name: string): string {
  let hash = 2166136261;
  for (const c of Buffer.from(name)) hash = Math.imul(hash ^ c, 16777619) >>> 0;
  return `10.255.${(hash >>> 8) & 0xff}.${Math.max(1, hash & 0xff)}`;
}

function bootText(ctx: LocalNodeContext): string {
  const text = configText(ctx.bootConfig);
  return text.trim() === "" ? defaultBirdConfig(ctx.managementAddress, ctx.node.name) : text;
}

async function checkConfig(ctx: LocalNodeContext, file: string, what: string): Promise<void> {
  const r = await ctx.exec([binaries.daemon, "-p", "-c", file], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new ConfigRejectedError(ctx.node.name, summarizeOutput(`${r.stdout}\n${r.stderr}`, 4), what);
}

async function status(ctx: LocalNodeContext, l: BirdLayout): Promise<{ up: boolean; output: string }> {
  const r = await ctx.exec([binaries.cli, "-s", l.socket, "show", "status"], { timeoutMs: 10_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  return { up: r.code === 0 && /Daemon is up and running/.test(output), output: summarizeOutput(output, 3) };
}

async function applyConfig(ctx: LocalNodeContext, l: BirdLayout, text: string, what: string): Promise<void> {
  const candidate = join(l.dir, "candidate.conf");
  await writeFileAtomic(candidate, text);
  try {
    await checkConfig(ctx, candidate, what);
  } finally {
    await rm(candidate, { force: true });
  }
  await writeFileAtomic(l.inForce, text);
  const argv = [binaries.cli, "-s", l.socket, "configure"];
  const r = await ctx.exec(argv, { timeoutMs: 30_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  // birdc exits 0 even when bird refuses the config; the reply says what happened.
  if (r.code !== 0 || !/Reconfigur(ed|ation in progress|ation already in progress)/.test(output)) {
    throw new NodeCommandError(ctx.node.name, argv, r.code, summarizeOutput(output), `applying the ${what} (birdc configure)`);
  }
  const settled = await pollUntil(async () => ((await status(ctx, l)).up ? true : undefined), RECONFIGURE_TIMEOUT_MS, 200);
  if (!settled) throw new LocalPreconditionError(`node ${ctx.node.name}: bird did not finish reconfiguring within ${RECONFIGURE_TIMEOUT_MS / 1000} s`);
}

const birdRuntime: LocalRuntime = {
  sysctls: () => ({ "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1" }),

  async prepare(ctx) {
    await checkNodeDir(ctx.nodeDir);
    await requireExecutables(ctx.node.name, Object.values(binaries), "bird2");
    const l = layout(ctx);
    checkSocketPath(l.socket, ctx.node.name);
    await ensureDirectory(l.dir, { mode: 0o755 });
    const text = bootText(ctx);
    await writeFileAtomic(l.boot, text);
    await writeFileAtomic(l.inForce, text);
    await checkConfig(ctx, l.boot, "boot config");
  },

  processes(ctx): ProcessSpec[] {
    const l = layout(ctx);
    return [{ name: "bird", argv: [binaries.daemon, "-f", "-c", l.inForce, "-s", l.socket, "-P", l.pidFile] }];
  },

  async ready(ctx) {
    const s = await status(ctx, layout(ctx));
    return s.up ? { ready: true } : { ready: false, reason: `bird is not up yet: ${s.output}` };
  },

  pushConfig(ctx, config) {
    const l = layout(ctx);
    return withNodeLock(l.dir, () => applyConfig(ctx, l, configText(config), "pushed config"));
  },

  resetConfig(ctx) {
    const l = layout(ctx);
    return withNodeLock(l.dir, async () => {
      const boot = await readFileIfExists(l.boot);
      if (!boot) throw new LocalPreconditionError(`node ${ctx.node.name} has no boot config in ${l.boot}: was it prepared?`);
      await applyConfig(ctx, l, boot.toString("utf8"), "boot config");
    });
  },

  async saveConfig(ctx) {
    const l = layout(ctx);
    const text = await readFileIfExists(l.inForce);
    if (!text) throw new LocalPreconditionError(`node ${ctx.node.name} has no config in ${l.inForce}: was it prepared?`);
    return new Uint8Array(text);
  },
};

export const birdVendor: VendorDefinition = {
  vendor: topo.Vendor.BIRD,
  name: "BIRD",
  description: "BIRD 2 routing daemon from the host's bird2 package",
  aliases: ["bird2"],
  models: [],
  defaults: {
    services: {},
    container: {
      image: "bird:latest",
      command: ["bird", "-f", "-c", "/etc/bird/bird.conf"],
      configPath: "/etc/bird",
      configFile: "bird.conf",
      entryCommand: "kubectl exec -it %s -- birdc",
    },
  },
  interfaceNaming: birdInterfaceNaming,
  local: birdRuntime,
};
