/**
 * The CNI plugin's handoff: one JSON file per pod sandbox (`<containerId>.json`) in the
 * handoff directory, naming the sandbox's network namespace and its pod. The directory is the
 * agent's record of pod namespaces across its own restarts: it is read whole at start and on
 * every change (inotify through `fs.watch`), and files whose namespace is gone (a sandbox
 * removed without CNI DEL) are deleted.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, watch } from "node:fs";
import { basename, dirname, join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { toolEnvironment } from "@kne/dataplane";
import type { Logger } from "@kne/telemetry";

const run = promisify(execFile);

export interface PodHandoff {
  containerId: string;
  /** The namespace's path as the runtime gave it (CNI_NETNS). */
  netnsPath: string;
  /** Its name under /run/netns, the form the data plane addresses namespaces by. */
  netnsName: string;
  podNamespace: string;
  podName: string;
  podUid: string;
  addedAt: string;
}

/** Where iproute2 and the container runtimes keep named network namespaces. */
const NETNS_DIRS = new Set(["/run/netns", "/var/run/netns"]);

/**
 * The /run/netns name of a sandbox's namespace path, or undefined when the runtime keeps it
 * elsewhere (containerd 1.x and CRI-O use /var/run/netns; other places are not supported yet).
 */
export function netnsNameOfPath(path: string): string | undefined {
  const name = basename(path);
  return NETNS_DIRS.has(dirname(path)) && /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/.test(name) ? name : undefined;
}

function parseHandoff(text: string): PodHandoff | string {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  const str = (k: string): string => (typeof raw[k] === "string" ? (raw[k] as string) : "");
  const netnsPath = str("netns");
  if (!str("containerId") || !netnsPath || !str("podNamespace") || !str("podName")) return "containerId, netns, podNamespace and podName are required";
  const netnsName = netnsNameOfPath(netnsPath);
  if (!netnsName) return `network namespace ${netnsPath} is not under /run/netns or /var/run/netns`;
  return { containerId: str("containerId"), netnsPath, netnsName, podNamespace: str("podNamespace"), podName: str("podName"), podUid: str("podUid"), addedAt: str("addedAt") };
}

/**
 * Every handoff whose namespace still exists. Files of vanished namespaces are removed;
 * unreadable ones are logged and left for a person to look at.
 */
export function readHandoffs(dir: string, logger: Logger): PodHandoff[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out: PodHandoff[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".json")) continue;
    const path = join(dir, file);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue; // removed by DEL while listing
    }
    const parsed = parseHandoff(text);
    if (typeof parsed === "string") {
      logger.warn({ file: path, problem: parsed }, "handoff file ignored");
      continue;
    }
    if (!existsSync(parsed.netnsPath)) {
      rmSync(path, { force: true });
      logger.info({ file: path, pod: `${parsed.podNamespace}/${parsed.podName}`, netns: parsed.netnsPath }, "handoff of a vanished sandbox removed");
      continue;
    }
    out.push(parsed);
  }
  return out;
}

/**
 * The sandbox of a pod to wire: the one of its uid when the runtime passed K8S_POD_UID, else
 * the newest (a restarted sandbox's file is written after the old one's).
 */
export function sandboxOf(handoffs: readonly PodHandoff[], namespace: string, name: string, uid: string | undefined): PodHandoff | undefined {
  const mine = handoffs.filter((h) => h.podNamespace === namespace && h.podName === name && (!uid || !h.podUid || h.podUid === uid));
  return mine.sort((a, b) => b.addedAt.localeCompare(a.addedAt))[0];
}

/** Calls `onChange` (debounced) when files of the directory change; returns the stop function. */
export function watchHandoffs(dir: string, onChange: () => void, debounceMs = 20): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}

/**
 * Finds a sandbox's namespace by the pod's address, for pods whose sandbox was made while the
 * plugin was not chained (or whose handoff file was lost): the named namespaces under
 * /run/netns (`cni-*`, the runtime's) are read once each — an address does not move between
 * them while the namespace lives — and forgotten when they disappear.
 */
export class NetnsByAddress {
  private readonly addresses = new Map<string, string[]>();

  constructor(private readonly readAddresses: (netns: string) => Promise<string[]> = readNetnsAddresses) {}

  async find(address: string): Promise<string | undefined> {
    if (!existsSync("/run/netns")) return undefined;
    const names = new Set(readdirSync("/run/netns").filter((n) => n.startsWith("cni-") && netnsNameOfPath(join("/run/netns", n)) !== undefined));
    for (const known of this.addresses.keys()) if (!names.has(known)) this.addresses.delete(known);
    for (const name of names) {
      if (!this.addresses.has(name)) this.addresses.set(name, await this.readAddresses(name).catch(() => []));
    }
    const hits = [...this.addresses].filter(([, list]) => list.includes(address)).map(([name]) => name);
    // Two namespaces with one address: not ours to guess.
    return hits.length === 1 ? hits[0] : undefined;
  }
}

async function readNetnsAddresses(netns: string): Promise<string[]> {
  const { stdout } = await run("ip", ["-n", netns, "-j", "addr", "show"], { env: toolEnvironment() });
  const links = JSON.parse(stdout || "[]") as Array<{ addr_info?: Array<{ local?: string }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : [])));
}
