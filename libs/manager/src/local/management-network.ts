/**
 * The management network of the local backend: a host bridge `kne-mgmt` (198.19.0.1/16)
 * and, per node, a veth whose node end is `eth0` with an address from 198.19.0.0/16.
 * Node services are reachable from the host at that address. Nothing more: no NAT, no
 * default route through it, and an nft table `inet kne_mgmt` drops anything the host
 * would forward from or to the bridge, so nodes never reach beyond this machine through it.
 *
 * The bridge and the nft table are made here; the ports are the agent's: each node's
 * `bridge_port` in ApplyWires (see `bridgePort`), made in the same pass and batches as the
 * topology's wires and kept like them. Host ends are named `kmg<12 hex of the node's hash>`
 * and carry the agent's marker `kne:<topology>:port.<host end>` (earlier versions marked
 * them `kne-mgmt:<topology>:<node>`; both are recognised). Deleting a node's namespace
 * deletes its pair; `removeTopologyPorts` sweeps by marker after a crash, and the bridge
 * goes when no port is left on it.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { type CommandRunner, processRunner } from "@kne/dataplane";
import { agentv1 } from "@kne/proto";
import { ManagerError } from "../errors.ts";

export interface ManagementOptions {
  bridge: string;
  /** The bridge's address with prefix length, e.g. 198.19.0.1/16. */
  gateway: string;
  nftTable: string;
}

export const defaultManagement: ManagementOptions = { bridge: "kne-mgmt", gateway: "198.19.0.1/16", nftTable: "kne_mgmt" };

export const MGMT_IFNAME = "eth0";
/** Markers of earlier versions, `kne-mgmt:<topology>:<node>`. */
const LEGACY_ALIAS_PREFIX = "kne-mgmt:";

export function hostIfnameFor(topology: string, node: string): string {
  return `kmg${createHash("sha1").update(`${topology}\u0000${node}`).digest("hex").slice(0, 12)}`;
}

/** Whether an interface alias marks a management port (of `topology`, or of any topology). */
export function isManagementPortAlias(alias: string | undefined, topology?: string): boolean {
  if (alias === undefined) return false;
  const t = topology ?? "[a-z0-9-]+";
  // Topology ids are DNS labels: nothing in them needs escaping.
  return alias.startsWith(`${LEGACY_ALIAS_PREFIX}${topology === undefined ? "" : `${topology}:`}`) || new RegExp(`^kne:${t}:port\\.`).test(alias);
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** The subnet's usable addresses after the gateway, in order. */
export function allocateAddresses(gateway: string, taken: ReadonlySet<string>, count: number): string[] {
  const [addr, prefixText] = gateway.split("/");
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  const base = ipToInt(addr!) - (ipToInt(addr!) % size);
  const gw = ipToInt(addr!);
  const out: string[] = [];
  for (let i = 1; i < size - 1 && out.length < count; i++) {
    const candidate = base + i;
    if (candidate === gw) continue;
    const ip = intToIp(candidate);
    if (!taken.has(ip)) out.push(ip);
  }
  if (out.length < count) throw new ManagerError("FAILED_PRECONDITION", `the management subnet ${gateway} has no ${count} free addresses left`);
  return out;
}

export function prefixLength(gateway: string): number {
  return Number(gateway.split("/")[1]);
}

async function run(runner: CommandRunner, argv: string[], input?: string, what = argv.join(" ")): Promise<string> {
  const r = await runner.run(argv[0]!, argv.slice(1), input !== undefined ? { input } : {});
  if (r.exitCode !== 0) throw new ManagerError("INTERNAL", `${what} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  return r.stdout;
}

async function linkExists(runner: CommandRunner, ifname: string): Promise<boolean> {
  const r = await runner.run("ip", ["-j", "link", "show", "dev", ifname]);
  return r.exitCode === 0;
}

export class ManagementNetwork {
  constructor(
    readonly options: ManagementOptions = defaultManagement,
    private readonly runner: CommandRunner = processRunner,
  ) {}

  /** The bridge with its address, up, and the forward-drop nft table. Idempotent. */
  async ensureBridge(): Promise<void> {
    const { bridge, gateway, nftTable } = this.options;
    const lines: string[] = [];
    if (!(await linkExists(this.runner, bridge))) lines.push(`link add ${bridge} type bridge`);
    lines.push(`addr replace ${gateway} dev ${bridge}`, `link set ${bridge} up`);
    await run(this.runner, ["ip", "-batch", "-"], `${lines.join("\n")}\n`, `setting up bridge ${bridge}`);
    const script = [
      `table inet ${nftTable} {}`,
      `flush table inet ${nftTable}`,
      `table inet ${nftTable} {`,
      `  chain forward {`,
      `    type filter hook forward priority 0; policy accept;`,
      `    iifname "${bridge}" drop`,
      `    oifname "${bridge}" drop`,
      `  }`,
      `}`,
      "",
    ].join("\n");
    await run(this.runner, ["nft", "-f", "-"], script, `nft table inet ${nftTable}`);
  }

  /** A node's management port as the agent makes it (ApplyWires `bridge_port`). */
  bridgePort(topology: string, node: string, address: string): agentv1.BridgePort {
    return create(agentv1.BridgePortSchema, {
      interface: MGMT_IFNAME,
      addresses: [`${address}/${prefixLength(this.options.gateway)}`],
      hostInterface: hostIfnameFor(topology, node),
      bridge: this.options.bridge,
    });
  }

  /** Host ends of the topology's management veths (found by alias). */
  async topologyPorts(topology?: string): Promise<string[]> {
    const r = await this.runner.run("ip", ["-j", "link", "show", "type", "veth"]);
    if (r.exitCode !== 0 || r.stdout.trim() === "") return [];
    const links = JSON.parse(r.stdout) as Array<{ ifname: string; ifalias?: string }>;
    return links.filter((l) => isManagementPortAlias(l.ifalias, topology)).map((l) => l.ifname.split("@")[0]!);
  }

  /** Deletes what is left of the topology's management veths (after a crash). */
  async removeTopologyPorts(topology: string): Promise<number> {
    const ports = await this.topologyPorts(topology);
    if (ports.length > 0) {
      await this.runner.run("ip", ["-force", "-batch", "-"], { input: `${ports.map((p) => `link del dev ${p}`).join("\n")}\n` });
    }
    return ports.length;
  }

  /**
   * After the topology's namespaces were deleted: waits until the kernel has removed their
   * management ports (it does so asynchronously, shortly after `netns del` returns; deleting
   * them one by one instead cost ~1.5 s at 500 nodes), and deletes any still there at the
   * deadline. A topology made again under the same name must not meet the old ports.
   */
  async awaitPortsGone(topology: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.runner.run("ip", ["-j", "link", "show", "master", this.options.bridge]);
      const ports = r.exitCode === 0 && r.stdout.trim() !== "" ? (JSON.parse(r.stdout) as Array<{ ifalias?: string }>) : [];
      if (!ports.some((p) => isManagementPortAlias(p.ifalias, topology))) return;
      if (Date.now() >= deadline) {
        await this.removeTopologyPorts(topology);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Removes the bridge and the nft table when no port is left on the bridge. Returns whether it did. */
  async removeBridgeIfUnused(): Promise<boolean> {
    const { bridge, nftTable } = this.options;
    if (!(await linkExists(this.runner, bridge))) {
      await this.runner.run("nft", ["delete", "table", "inet", nftTable]);
      return true;
    }
    const r = await this.runner.run("ip", ["-j", "link", "show", "master", bridge]);
    const ports = r.exitCode === 0 && r.stdout.trim() !== "" ? (JSON.parse(r.stdout) as unknown[]) : [];
    if (ports.length > 0) return false;
    await this.runner.run("ip", ["link", "del", "dev", bridge]);
    await this.runner.run("nft", ["delete", "table", "inet", nftTable]);
    return true;
  }
}
