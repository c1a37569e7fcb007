/**
 * Network namespaces: create and delete in one `ip -batch` each, list ours, run commands
 * inside, set sysctls. Commands inside a namespace go through `ip netns exec` (which also
 * gives the process the namespace's /sys and /etc/netns files); sysctls use the lighter
 * `nsenter --net` (2.5 ms against 4.2 ms per call here).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { batchCommand, type KernelOperation } from "./batch.ts";
import { type CommandResult, type CommandRunner, type RunOptions, processRunner, toolEnvironment } from "./command-runner.ts";
import { InvalidArgumentError, translateCommandFailure } from "./errors.ts";
import { type ApplyReport, type ExecutorOptions, applyOperationsOrThrow } from "./executor.ts";
import { HOST_NETNS, parseOwnedNetnsName, validateNetnsName } from "./names.ts";
import { listNetns } from "./observe.ts";

export interface CreateNamespacesOptions extends ExecutorOptions {
  /** Bring `lo` up (default true). Costs one process per namespace. */
  loopbackUp?: boolean;
  /** Set IPv4 and IPv6 forwarding (default: leave off). Costs one process per namespace. */
  ipForwarding?: boolean;
}

/** Creates the namespaces (those that exist already are left alone). */
export async function createNamespaces(names: readonly string[], options: CreateNamespacesOptions = {}): Promise<ApplyReport> {
  names.forEach((n, i) => validateNetnsName(n, `names[${i}]`, false));
  const ops: KernelOperation[] = [];
  for (const name of names) {
    ops.push({ phase: "netns-add", tool: "ip", netns: HOST_NETNS, args: ["netns", "add", name], object: `netns ${name}`, ignore: ["ALREADY_EXISTS"] });
    if (options.loopbackUp ?? true) {
      ops.push({ phase: "setup", tool: "ip", netns: name, args: ["link", "set", "dev", "lo", "up"], object: `netns ${name} dev lo` });
    }
    if (options.ipForwarding) {
      ops.push({
        phase: "setup",
        tool: "sysctl",
        netns: name,
        args: ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"],
        object: `sysctl forwarding in netns ${name}`,
      });
    }
  }
  return applyOperationsOrThrow(ops, options);
}

/** Deletes the namespaces in one batch (missing ones are fine). Devices inside go with them. */
export async function deleteNamespaces(names: readonly string[], options: ExecutorOptions = {}): Promise<ApplyReport> {
  names.forEach((n, i) => validateNetnsName(n, `names[${i}]`, false));
  const ops: KernelOperation[] = names.map((name) => ({
    phase: "netns-delete",
    tool: "ip",
    netns: HOST_NETNS,
    args: ["netns", "del", name],
    object: `netns ${name}`,
    ignore: ["NOT_FOUND"],
  }));
  return applyOperationsOrThrow(ops, options);
}

export interface OwnedNamespace {
  name: string;
  topology: string;
  /** Node name, or `_fabric`. */
  node: string;
}

/** Our namespaces (`kne.<topology>.<node>`), of one topology or all. */
export async function listOwnedNamespaces(topology?: string, runner: CommandRunner = processRunner): Promise<OwnedNamespace[]> {
  const out: OwnedNamespace[] = [];
  for (const name of await listNetns(runner)) {
    const parsed = parseOwnedNetnsName(name);
    if (parsed && (topology === undefined || parsed.topology === topology)) out.push({ name, ...parsed });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function execArgv(netns: string, file: string, args: readonly string[]): string[] {
  validateNetnsName(netns);
  if (file === "" || file.includes("\u0000")) throw new InvalidArgumentError("command must be a non-empty file name", "file");
  return netns === HOST_NETNS ? [file, ...args] : ["ip", "netns", "exec", netns, file, ...args];
}

/**
 * Runs a command in a namespace to completion (argument array, no shell). A non-zero exit is
 * returned, not thrown.
 */
export async function execInNamespace(
  netns: string,
  file: string,
  args: readonly string[],
  options: RunOptions & { runner?: CommandRunner } = {},
): Promise<CommandResult> {
  const argv = execArgv(netns, file, args);
  return (options.runner ?? processRunner).run(argv[0]!, argv.slice(1), options);
}

/** Starts a long-running command in a namespace (a daemon, a traffic generator). */
export function spawnInNamespace(netns: string, file: string, args: readonly string[], options: { stdio?: "pipe" | "ignore" } = {}): ChildProcess {
  const argv = execArgv(netns, file, args);
  return spawn(argv[0]!, argv.slice(1), { stdio: options.stdio ?? "pipe", env: toolEnvironment() });
}

const SYSCTL_KEY_RE = /^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/;
const SYSCTL_VALUE_RE = /^[A-Za-z0-9_.: -]{1,64}$/;

/** Sets sysctls inside a namespace (`nsenter --net ... sysctl -w k=v ...`). */
export async function setSysctls(netns: string, settings: Readonly<Record<string, string | number>>, options: { runner?: CommandRunner } = {}): Promise<void> {
  validateNetnsName(netns);
  const pairs = Object.entries(settings).map(([k, v]) => {
    const value = String(v);
    if (!SYSCTL_KEY_RE.test(k)) throw new InvalidArgumentError(`sysctl key ${JSON.stringify(k)} is not valid`, "settings");
    if (!SYSCTL_VALUE_RE.test(value)) throw new InvalidArgumentError(`sysctl value ${JSON.stringify(value)} for ${k} is not valid`, "settings");
    return `${k}=${value}`;
  });
  if (pairs.length === 0) return;
  const argv = batchCommand({ phase: "setup", tool: "sysctl", netns, operations: [{ phase: "setup", tool: "sysctl", netns, args: pairs, object: "" }] });
  const r = await (options.runner ?? processRunner).run(argv[0]!, argv.slice(1));
  if (r.exitCode !== 0 || r.stderr.trim() !== "") {
    throw translateCommandFailure({ command: argv, stderr: r.stderr, exitCode: r.exitCode, object: `sysctl in netns ${netns || "(host)"}` });
  }
}
