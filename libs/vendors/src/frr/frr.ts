/**
 * FRR on the local backend: the daemons its config needs, each started with a per-node
 * vty socket directory, zserv socket and pid file; the integrated config applied over vty.
 *
 * Daemons start without a config (`-f /dev/null`) and get the integrated `frr.conf` from
 * `vtysh -b` once they answer — what FRR's own init and watchfrr do. Feeding the
 * integrated file to every daemon with `-f` does not work: a daemon that does not know a
 * block (staticd and `router bgp`) leaves config mode at that block's `exit` and drops
 * every later line. `ready()` re-applies the config to a daemon whose pid changed (the
 * supervisor restarted it), so a restarted bgpd comes back configured.
 *
 * Files under `nodeDir/frr/`: `boot.conf` (the boot config), `frr.conf` (the config in
 * force: the boot config, or the running config after a push), `vtysh.conf`, and `run/`
 * (owned by the `frr` user, as the daemons drop root: sockets, pid files, and `<daemon>.applied`
 * holding the pid that last got the config).
 */
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { topo } from "@kne/proto";
import { ConfigRejectedError, LocalPreconditionError, summarizeOutput } from "../errors";
import type { LocalNodeContext, LocalRuntime, ProcessSpec, ReadyResult } from "../local-runtime";
import { configText, execChecked, withNodeLock } from "../node-exec";
import {
  checkNodeDir,
  checkSocketPath,
  ensureDirectory,
  ensureTraversable,
  lookupSystemUser,
  readFileIfExists,
  requireExecutables,
  writeFileAtomic,
} from "../node-files";
import { frrInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";
import { type FrrDaemon, daemonsForConfig, frrDaemonSet, parseDaemonList } from "./frr-daemons";

/** Where Debian's frr package installs things. */
export const frrPaths = {
  sbinDir: "/usr/lib/frr",
  vtysh: "/usr/bin/vtysh",
  reload: "/usr/lib/frr/frr-reload.py",
  // Debian's python3; the first python3 on PATH may be another interpreter.
  python: "/usr/bin/python3",
  user: "frr",
} as const;

/** `config.env` key listing daemons to run beyond those the boot config needs. */
export const FRR_DAEMONS_ENV = "FRR_DAEMONS";

/** Lines FRR errors start with when a config line is wrong (not when a daemon is away). */
const configErrorPattern = /% (Unknown command|Command incomplete|Ambiguous command|Invalid|Configuration failed)/;

/** The boot config of a node that has none. */
export function defaultFrrConfig(hostname: string): string {
  return ["frr defaults traditional", `hostname ${hostname}`, "log stdout", "service integrated-vtysh-config", "!", ""].join("\n");
}

interface FrrLayout {
  confDir: string;
  runDir: string;
  boot: string;
  inForce: string;
}

function layout(ctx: LocalNodeContext): FrrLayout {
  const confDir = join(ctx.nodeDir, "frr");
  return { confDir, runDir: join(confDir, "run"), boot: join(confDir, "boot.conf"), inForce: join(confDir, "frr.conf") };
}

function bootText(ctx: LocalNodeContext): string {
  const text = configText(ctx.bootConfig);
  if (text.trim() === "") return defaultFrrConfig(ctx.node.name);
  return text.endsWith("\n") ? text : `${text}\n`;
}

function mgmtdInstalled(): boolean {
  return existsSync(join(frrPaths.sbinDir, "mgmtd"));
}

/** The daemons this node runs: from its boot config and `config.env.FRR_DAEMONS`. */
export function frrDaemonsOf(ctx: Pick<LocalNodeContext, "node" | "bootConfig">): FrrDaemon[] {
  const listed = ctx.node.config?.env[FRR_DAEMONS_ENV];
  let extra: FrrDaemon[] = [];
  if (listed !== undefined) {
    try {
      extra = parseDaemonList(listed);
    } catch (e) {
      throw new LocalPreconditionError(`node ${ctx.node.name}: ${(e as Error).message}`, `nodes[${ctx.node.name}].config.env`);
    }
  }
  return frrDaemonSet(configText(ctx.bootConfig), extra, mgmtdInstalled());
}

function daemonArgv(daemon: FrrDaemon, runDir: string): string[] {
  const argv = [join(frrPaths.sbinDir, daemon), "-f", "/dev/null", "--vty_socket", runDir, "-i", join(runDir, `${daemon}.pid`)];
  // mgmtd is the only one without a zebra client.
  if (daemon !== "mgmtd") argv.push("-z", join(runDir, "zserv.api"));
  argv.push("-P", "0", "--log", "stdout");
  if (daemon === "zebra") argv.push("-s", "90000000");
  return argv;
}

/** What a daemon waits for: zebra (its zserv socket), and zebra waits for mgmtd where there is one. */
function startAfter(daemon: FrrDaemon, daemons: readonly FrrDaemon[]): FrrDaemon[] {
  if (daemon === "mgmtd") return [];
  if (daemon === "zebra") return daemons.includes("mgmtd") ? ["mgmtd"] : [];
  return ["zebra"];
}

function vtysh(l: FrrLayout, ...args: string[]): string[] {
  return [frrPaths.vtysh, "--vty_socket", l.runDir, "--config_dir", l.confDir, ...args];
}

/** `show running-config` without vtysh's "Building configuration..." preamble. */
export function stripRunningConfigPreamble(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("Current configuration"));
  return (start >= 0 ? lines.slice(start + 1) : lines).join("\n").replace(/^\n+/, "");
}

async function pidAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readPid(path: string): Promise<number | undefined> {
  const text = (await readFileIfExists(path))?.toString("utf8").trim();
  const pid = text ? Number(text) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function checkConfig(ctx: LocalNodeContext, l: FrrLayout, file: string, what: string): Promise<void> {
  const r = await ctx.exec([frrPaths.vtysh, "--config_dir", l.confDir, "-C", "-f", file], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new ConfigRejectedError(ctx.node.name, summarizeOutput(`${r.stdout}\n${r.stderr}`), what);
}

async function runningConfig(ctx: LocalNodeContext, l: FrrLayout): Promise<string> {
  const r = await execChecked(ctx, vtysh(l, "-c", "show running-config"), "reading the running config", { code: "UNAVAILABLE" });
  return stripRunningConfigPreamble(r.stdout);
}

const frrRuntime: LocalRuntime = {
  sysctls: () => ({ "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1" }),

  async prepare(ctx) {
    await checkNodeDir(ctx.nodeDir);
    const l = layout(ctx);
    const daemons = frrDaemonsOf(ctx);
    const user = await lookupSystemUser(frrPaths.user);
    if (!user) throw new LocalPreconditionError(`FRR's user "${frrPaths.user}" does not exist: install the frr package`);
    await requireExecutables(ctx.node.name, [...daemons.map((d) => join(frrPaths.sbinDir, d)), frrPaths.vtysh], "frr");
    checkSocketPath(join(l.runDir, "zserv.api"), ctx.node.name);
    for (const d of daemons) checkSocketPath(join(l.runDir, `${d}.vty`), ctx.node.name);

    await ensureDirectory(l.confDir, { mode: 0o755 });
    await ensureDirectory(l.runDir, { mode: 0o755, owner: user });
    await ensureTraversable(l.runDir, ctx.nodeDir, "FRR");
    // A fresh start: nothing has been applied to the daemons about to start, and sockets
    // left by earlier daemons must not let a daemon start before zebra listens.
    for (const name of await readdir(l.runDir)) {
      if (/\.(applied|vty|pid|api)$/.test(name)) await rm(join(l.runDir, name), { force: true });
    }

    const text = bootText(ctx);
    await writeFileAtomic(join(l.confDir, "vtysh.conf"), "service integrated-vtysh-config\n");
    await writeFileAtomic(l.boot, text);
    await writeFileAtomic(l.inForce, text);
    await checkConfig(ctx, l, l.boot, "boot config");
  },

  processes(ctx): ProcessSpec[] {
    const l = layout(ctx);
    const daemons = frrDaemonsOf(ctx);
    return daemons.map((d) => {
      const after = startAfter(d, daemons).map((other) => (other === "zebra" ? join(l.runDir, "zserv.api") : join(l.runDir, `${other}.vty`)));
      return { name: d, argv: daemonArgv(d, l.runDir), ...(after.length > 0 ? { waitForPaths: after } : {}) };
    });
  },

  ready(ctx) {
    const l = layout(ctx);
    return withNodeLock(l.confDir, async (): Promise<ReadyResult> => {
      const daemons = frrDaemonsOf(ctx);
      const shown = await ctx.exec(vtysh(l, "-c", "show daemons"), { timeoutMs: 10_000 });
      if (shown.code !== 0) {
        return { ready: false, reason: `no FRR daemon answers on vty yet (${summarizeOutput(`${shown.stdout}\n${shown.stderr}`, 2)})` };
      }
      const answering = new Set(shown.stdout.split(/\s+/).filter((w) => w !== ""));
      const silent = daemons.filter((d) => !answering.has(d));
      if (silent.length > 0) return { ready: false, reason: `waiting for ${silent.join(", ")} to answer on vty` };

      const unconfigured: Array<{ daemon: FrrDaemon; pid: number }> = [];
      for (const daemon of daemons) {
        const pid = await readPid(join(l.runDir, `${daemon}.pid`));
        if (pid === undefined || !(await pidAlive(pid))) return { ready: false, reason: `waiting for ${daemon} to write its pid file` };
        const applied = await readPid(join(l.runDir, `${daemon}.applied`));
        if (applied !== pid) unconfigured.push({ daemon, pid });
      }
      if (unconfigured.length === 0) return { ready: true };

      // All at once on a fresh start (one vtysh pass); one daemon at a time after restarts.
      const batches = unconfigured.length === daemons.length ? [undefined] : unconfigured.map((u) => u.daemon);
      for (const only of batches) {
        const r = await ctx.exec(vtysh(l, "-b", ...(only ? ["-d", only] : [])), { timeoutMs: 60_000 });
        if (r.code !== 0) {
          const output = summarizeOutput(`${r.stdout}\n${r.stderr}`);
          const rejected = configErrorPattern.test(output);
          return {
            ready: false,
            failed: rejected,
            reason: `${rejected ? "config rejected" : "applying the config failed"}${only ? ` (${only})` : ""}: ${output}`,
          };
        }
      }
      for (const u of unconfigured) await writeFileAtomic(join(l.runDir, `${u.daemon}.applied`), `${u.pid}\n`);
      return { ready: true };
    });
  },

  pushConfig(ctx, config) {
    const l = layout(ctx);
    return withNodeLock(l.confDir, async () => {
      const text = configText(config);
      const running = new Set(frrDaemonsOf(ctx));
      const missing = daemonsForConfig(text).filter((d) => !running.has(d));
      if (missing.length > 0) {
        throw new LocalPreconditionError(
          `node ${ctx.node.name}: the config needs ${missing.join(", ")}, which ${missing.length > 1 ? "do" : "does"} not run here: ` +
            `the daemons are chosen from the boot config; configure them there or list them in config.env ${FRR_DAEMONS_ENV}`,
        );
      }
      const candidate = join(l.confDir, "push.conf");
      await writeFileAtomic(candidate, text.endsWith("\n") ? text : `${text}\n`);
      try {
        await checkConfig(ctx, l, candidate, "pushed config");
        // Merge, as a CLI config session does: the lines are applied on top of the running config.
        await execChecked(ctx, vtysh(l, "-f", candidate), "applying the pushed config");
        // Restarted daemons get the config in force, so it must now be the running config.
        await writeFileAtomic(l.inForce, await runningConfig(ctx, l));
      } finally {
        await rm(candidate, { force: true });
      }
    });
  },

  resetConfig(ctx) {
    const l = layout(ctx);
    return withNodeLock(l.confDir, async () => {
      const boot = await readFileIfExists(l.boot);
      if (!boot) throw new LocalPreconditionError(`node ${ctx.node.name} has no boot config in ${l.boot}: was it prepared?`);
      await writeFileAtomic(l.inForce, boot);
      // frr-reload diffs the running config against the file and applies the difference
      // (removals included), without restarting anything.
      await execChecked(
        ctx,
        [
          frrPaths.python,
          frrPaths.reload,
          "--reload",
          "--stdout",
          "--bindir",
          "/usr/bin",
          "--confdir",
          l.confDir,
          "--rundir",
          l.runDir,
          "--vty_socket",
          l.runDir,
          l.inForce,
        ],
        "restoring the boot config (frr-reload)",
      );
    });
  },

  async saveConfig(ctx) {
    return Buffer.from(await runningConfig(ctx, layout(ctx)), "utf8");
  },
};

export const frrVendor: VendorDefinition = {
  vendor: topo.Vendor.FRR,
  name: "FRR",
  description: "FRRouting daemons (zebra, bgpd, ospfd, isisd, ...) from the host's frr package",
  aliases: ["frrouting"],
  models: [],
  defaults: {
    services: {},
    container: { image: "frrouting/frr:latest", configPath: "/etc/frr", configFile: "frr.conf" },
  },
  interfaceNaming: frrInterfaceNaming,
  local: frrRuntime,
};
