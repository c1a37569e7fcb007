/**
 * The management network of the local backend: one layer-2 segment on the host, the host's
 * interface `kne-mgmt` on it with 198.19.0.1/16, and per node an interface `eth0` with an
 * address from 198.19.0.0/16. Node services are reachable from the host at that address.
 * Nothing more: no NAT, no default route through it, and an nft table `inet kne_mgmt` drops
 * anything the host would forward from or to `kne-mgmt`, so nodes never reach beyond this
 * machine through it.
 *
 * The segment is macvlan in bridge mode on a parent `kne-mgmt0`: the host's `kne-mgmt` and
 * every node's `eth0` are macvlans of it, which the kernel switches among themselves. The
 * parent is one end of a veth pair whose other end `kne-mgmt1` only gives it a carrier (it
 * answers no ARP and has IPv6 off). Measured against a bridge with a veth per node: a
 * 100-node ring's pass took ~300 ms instead of ~400 ms (one device per node instead of two,
 * no bridge port, nothing on the host side to mark, wait for or delete).
 *
 * Made here: the segment and the nft table. The nodes' interfaces are the agent's: each
 * node's `bridge_port` in ApplyWires (see `bridgePort`), made in the same pass and batches
 * as the topology's wires and kept like them; they go with the node's namespace. The
 * segment goes when no node namespace of any topology is left. Earlier versions used a
 * bridge `kne-mgmt` with a veth per node (host ends marked `kne-mgmt:<topology>:<node>`, or
 * `kne:<topology>:port.<host end>`): such ports are still found and removed.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { type CommandRunner, listNetns, parseBatchFailures, parseOwnedNetnsName, processRunner } from "@kne/dataplane";
import { agentv1 } from "@kne/proto";
import { ManagerError } from "../errors.ts";

export interface ManagementOptions {
  /** The host's interface on the segment (it carries the gateway address); the parent and its peer are named after it with 0 and 1. */
  hostInterface: string;
  /** The host interface's address with prefix length, e.g. 198.19.0.1/16. */
  gateway: string;
  nftTable: string;
}

export const defaultManagement: ManagementOptions = { hostInterface: "kne-mgmt", gateway: "198.19.0.1/16", nftTable: "kne_mgmt" };

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

export class ManagementNetwork {
  constructor(
    readonly options: ManagementOptions = defaultManagement,
    private readonly runner: CommandRunner = processRunner,
  ) {}

  /** The segment's parent (a veth end) and its peer, named after the host interface. */
  get parent(): string {
    return `${this.options.hostInterface}0`;
  }

  get parentPeer(): string {
    return `${this.options.hostInterface}1`;
  }

  /** The segment, the host's interface on it with the gateway address, and the forward-drop nft table. Idempotent. */
  async ensureNetwork(): Promise<void> {
    const { hostInterface: host, gateway, nftTable } = this.options;
    const { parent, parentPeer } = this;
    const lines: string[] = [];
    // An earlier version's bridge of that name: replaced once no port is left on it.
    if (existsSync(`/sys/class/net/${host}/bridge`)) {
      const ports = readdirSync(`/sys/class/net/${host}/brif`);
      if (ports.length > 0) {
        throw new ManagerError(
          "FAILED_PRECONDITION",
          `the management bridge ${host} of an earlier kne still has ports (${ports.slice(0, 5).join(", ")}${ports.length > 5 ? ", ..." : ""}): delete the topologies made with it first ('kne list', 'kne delete NAME')`,
        );
      }
      lines.push(`link del dev ${host}`);
    }
    const first = lines.length + 1;
    lines.push(
      `link add ${parent} type veth peer name ${parentPeer}`,
      `link set dev ${parentPeer} arp off up`,
      `link set dev ${parent} up`,
      `link add ${host} link ${parent} type macvlan mode bridge`,
      `addr replace ${gateway} dev ${host}`,
      `link set dev ${host} up`,
    );
    // One process: -force goes on after "File exists" on the two adds (made before); any
    // other failure is reported.
    const r = await this.runner.run("ip", ["-force", "-batch", "-"], { input: `${lines.join("\n")}\n` });
    if (r.exitCode !== 0) {
      const failures = parseBatchFailures(r.stderr);
      const tolerated = (line: number, text: string): boolean => (line === first || line === first + 3) && /File exists/.test(text);
      const bad = [...failures.byLine].filter(([line, text]) => !tolerated(line, text));
      if (bad.length > 0 || failures.unattributed) {
        throw new ManagerError("INTERNAL", `setting up the management network (${host} on ${parent}) failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
      }
    }
    for (const dev of [parent, parentPeer]) {
      try {
        // No IPv6 neighbour discovery from the carrier's ends (absent when IPv6 is off).
        writeFileSync(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, "1");
      } catch {
        // IPv6 is off on this host.
      }
    }
    const script = [
      `table inet ${nftTable} {}`,
      `flush table inet ${nftTable}`,
      `table inet ${nftTable} {`,
      `  chain forward {`,
      `    type filter hook forward priority 0; policy accept;`,
      `    iifname "${host}" drop`,
      `    oifname "${host}" drop`,
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
      macvlanParent: this.parent,
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
      const r = await this.runner.run("ip", ["-j", "link", "show", "master", this.options.hostInterface]);
      const ports = r.exitCode === 0 && r.stdout.trim() !== "" ? (JSON.parse(r.stdout) as Array<{ ifalias?: string }>) : [];
      if (!ports.some((p) => isManagementPortAlias(p.ifalias, topology))) return;
      if (Date.now() >= deadline) {
        await this.removeTopologyPorts(topology);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Removes the segment and the nft table when no node namespace of any topology is left on
   * the host (the segment is shared by every state dir). Returns whether it did.
   */
  async removeNetworkIfUnused(): Promise<boolean> {
    const { hostInterface: host, nftTable } = this.options;
    const names = await listNetns(this.runner);
    if (names.some((n) => parseOwnedNetnsName(n) !== undefined)) return false;
    // The parent takes its macvlans and its peer along.
    await this.runner.run("ip", ["-force", "-batch", "-"], { input: `link del dev ${host}\nlink del dev ${this.parent}\n` });
    await this.runner.run("nft", ["delete", "table", "inet", nftTable]);
    return true;
  }
}
