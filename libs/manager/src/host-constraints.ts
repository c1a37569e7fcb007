/**
 * Host constraints (`Node.host_constraints`): kernel parameters a node needs on the host,
 * checked before anything is made, as upstream does (it reads them under /proc/sys). On the
 * kubernetes backend they are read on the manager's host, which is the node's kernel for the
 * parameters that are not per network namespace (`fs.inotify.*`, `kernel.*`, ...).
 */
import { readFile } from "node:fs/promises";
import type { topo } from "@kne/proto";
import { ManagerError } from "./errors.ts";

/** A kernel parameter's value by its dotted name; undefined when the kernel has no such parameter. */
export type SysctlReader = (name: string) => Promise<string | undefined>;

/** Reads `/proc/sys/<name with dots as slashes>`. */
export const readProcSys: SysctlReader = async (name) => {
  try {
    return (await readFile(`/proc/sys/${name.replaceAll(".", "/")}`, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
};

/**
 * Throws FAILED_PRECONDITION naming every node, parameter, value and bound that is not met
 * (min_value inclusive; max_value inclusive when not 0), with the field of each constraint.
 */
export async function checkHostConstraints(topology: topo.Topology, read: SysctlReader = readProcSys): Promise<void> {
  const problems: Array<{ field: string; description: string }> = [];
  const cache = new Map<string, Promise<string | undefined>>();
  for (const node of topology.nodes) {
    for (const [i, constraint] of node.hostConstraints.entries()) {
      if (constraint.constraint.case !== "kernelConstraint") continue;
      const param = constraint.constraint.value;
      if (param.ConstraintType.case !== "boundedInteger") continue;
      const { minValue, maxValue } = param.ConstraintType.value;
      const field = `topology.nodes[${node.name}].host_constraints[${i}]`;
      if (!cache.has(param.name)) cache.set(param.name, read(param.name));
      const raw = await cache.get(param.name)!;
      if (raw === undefined) {
        problems.push({ field, description: `node ${node.name} needs kernel parameter ${param.name}, which this host's kernel does not have` });
        continue;
      }
      // Multi-valued parameters (net.ipv4.ip_local_port_range) are bounded by their first value.
      const first = raw.split(/\s+/)[0] ?? "";
      if (!/^-?\d+$/.test(first)) {
        problems.push({ field, description: `node ${node.name}: kernel parameter ${param.name} is ${JSON.stringify(raw)}, not an integer` });
        continue;
      }
      const value = BigInt(first);
      if (value < minValue) {
        problems.push({ field, description: `node ${node.name} needs ${param.name} ≥ ${minValue}; this host has ${value} (sysctl -w ${param.name}=${minValue})` });
      } else if (maxValue !== 0n && value > maxValue) {
        problems.push({ field, description: `node ${node.name} needs ${param.name} ≤ ${maxValue}; this host has ${value} (sysctl -w ${param.name}=${maxValue})` });
      }
    }
  }
  if (problems.length > 0) {
    throw new ManagerError(
      "FAILED_PRECONDITION",
      `topology ${topology.name}: the host does not meet ${problems.length === 1 ? "a host constraint" : `${problems.length} host constraints`}: ${problems.map((p) => p.description).join("; ")}`,
      problems,
    );
  }
}
