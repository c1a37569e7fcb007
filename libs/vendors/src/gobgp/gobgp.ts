/**
 * GoBGP on the local backend: one gobgpd with the node's config file (TOML, YAML or JSON,
 * chosen by file extension as `gobgpConfigType` says) and its gRPC API on port 50051 of the
 * node's namespace (reachable on the management address; `gobgp` inside the node uses it).
 *
 * Files under `nodeDir/gobgp/`: `boot.<ext>` and `gobgpd.<ext>` (the config in force, the
 * file gobgpd reads at every start). Push and reset replace the config in force: checked
 * with `gobgpd --dry-run` first, then applied by SIGHUP (gobgpd diffs neighbors and
 * policies itself) or, when the change touches what gobgpd cannot reload (the AS, the
 * router id, ...), by a restart.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { topo } from "@kne/proto";
import { ConfigRejectedError, LocalPreconditionError, summarizeOutput } from "../errors";
import type { LocalNodeContext, LocalRuntime, ProcessSpec } from "../local-runtime";
import { configText, pollUntil, withNodeLock } from "../node-exec";
import { checkNodeDir, ensureDirectory, readFileIfExists, requireExecutables, writeFileAtomic } from "../node-files";
import { gobgpInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";
import { type GobgpConfigType, gobgpChangeNeedsRestart, gobgpConfigType } from "./gobgp-config";

/** gobgpd's gRPC API port inside the node (gobgpd's own default). */
export const GOBGP_API_PORT = 50051;

const binaries = { daemon: "gobgpd", cli: "gobgp" } as const;

/** How long a push or reset waits for the API to answer again. */
const RELOAD_TIMEOUT_MS = 20_000;

interface GobgpLayout {
  dir: string;
  type: GobgpConfigType;
  boot: string;
  inForce: string;
}

function layout(ctx: LocalNodeContext): GobgpLayout {
  const config = ctx.node.config;
  const type = gobgpConfigType({
    file: config?.configData.case === "file" ? config.configData.value : undefined,
    configFile: config?.configFile,
  });
  const dir = join(ctx.nodeDir, "gobgp");
  return { dir, type, boot: join(dir, `boot.${type}`), inForce: join(dir, `gobgpd.${type}`) };
}

function hasBootConfig(ctx: LocalNodeContext): boolean {
  return configText(ctx.bootConfig).trim() !== "";
}

async function checkConfig(ctx: LocalNodeContext, file: string, type: GobgpConfigType, what: string): Promise<void> {
  const r = await ctx.exec([binaries.daemon, "--dry-run", "-f", file, "-t", type, "--log-plain"], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new ConfigRejectedError(ctx.node.name, summarizeOutput(`${r.stdout}\n${r.stderr}`, 4), what);
}

async function apiAnswers(ctx: LocalNodeContext): Promise<{ ok: boolean; output: string }> {
  const r = await ctx.exec([binaries.cli, "-u", "127.0.0.1", "-p", String(GOBGP_API_PORT), "global"], { timeoutMs: 10_000 });
  return { ok: r.code === 0, output: summarizeOutput(`${r.stdout}\n${r.stderr}`, 3) };
}

/** Replaces the config in force and makes gobgpd run it. */
async function applyConfig(ctx: LocalNodeContext, l: GobgpLayout, text: string, what: string): Promise<void> {
  if (!hasBootConfig(ctx)) {
    throw new LocalPreconditionError(
      `node ${ctx.node.name} started gobgpd without a config, so it cannot load one: give the node a boot config`,
    );
  }
  const candidate = join(l.dir, `candidate.${l.type}`);
  await writeFileAtomic(candidate, text);
  try {
    await checkConfig(ctx, candidate, l.type, what);
  } finally {
    await rm(candidate, { force: true });
  }
  const current = (await readFileIfExists(l.inForce))?.toString("utf8") ?? "";
  const restart = gobgpChangeNeedsRestart(current, text, l.type);
  await writeFileAtomic(l.inForce, text);
  if (restart) await ctx.processes.restart("gobgpd");
  else await ctx.processes.signal("gobgpd", "SIGHUP");
  const answered = await pollUntil(async () => ((await apiAnswers(ctx)).ok ? true : undefined), RELOAD_TIMEOUT_MS, 200);
  if (!answered) {
    throw new LocalPreconditionError(`node ${ctx.node.name}: gobgpd did not answer within ${RELOAD_TIMEOUT_MS / 1000} s after the ${what}`);
  }
}

const gobgpRuntime: LocalRuntime = {
  sysctls: () => ({ "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1" }),

  async prepare(ctx) {
    await checkNodeDir(ctx.nodeDir);
    await requireExecutables(ctx.node.name, Object.values(binaries), "gobgpd");
    const l = layout(ctx);
    await ensureDirectory(l.dir, { mode: 0o755 });
    if (!hasBootConfig(ctx)) return;
    const text = configText(ctx.bootConfig);
    await writeFileAtomic(l.boot, text);
    await writeFileAtomic(l.inForce, text);
    await checkConfig(ctx, l.boot, l.type, "boot config");
  },

  processes(ctx): ProcessSpec[] {
    const l = layout(ctx);
    const config = hasBootConfig(ctx) ? ["-f", l.inForce, "-t", l.type] : [];
    return [
      {
        name: "gobgpd",
        argv: [binaries.daemon, ...config, "--api-hosts", `:${GOBGP_API_PORT}`, "--pprof-disable", "--log-plain"],
      },
    ];
  },

  async ready(ctx) {
    const api = await apiAnswers(ctx);
    return api.ok ? { ready: true } : { ready: false, reason: `gobgpd API does not answer yet: ${api.output}` };
  },

  pushConfig(ctx, config) {
    const l = layout(ctx);
    return withNodeLock(l.dir, () => applyConfig(ctx, l, configText(config), "pushed config"));
  },

  resetConfig(ctx) {
    const l = layout(ctx);
    return withNodeLock(l.dir, async () => {
      const boot = await readFileIfExists(l.boot);
      if (!boot) throw new LocalPreconditionError(`node ${ctx.node.name} has no boot config to return to`);
      await applyConfig(ctx, l, boot.toString("utf8"), "boot config");
    });
  },

  async saveConfig(ctx) {
    const l = layout(ctx);
    const text = await readFileIfExists(l.inForce);
    if (!text) throw new LocalPreconditionError(`node ${ctx.node.name} runs gobgpd without a config file`);
    return new Uint8Array(text);
  },
};

export const gobgpVendor: VendorDefinition = {
  vendor: topo.Vendor.GOBGP,
  name: "GOBGP",
  description: "GoBGP (gobgpd) from the host's gobgpd package",
  aliases: ["gobgpd"],
  models: [],
  defaults: {
    services: {},
    container: {
      image: "hfam/gobgp:latest",
      command: ["/usr/local/bin/gobgpd", "-f", "/gobgp.conf", "-t", "yaml"],
      configPath: "/",
      configFile: "gobgp.conf",
      entryCommand: "kubectl exec -it %s -- /bin/bash",
    },
  },
  interfaceNaming: gobgpInterfaceNaming,
  local: gobgpRuntime,
};
