/**
 * Desired states of standard shapes, for benchmarks and tests: a ring of N nodes where node
 * i's eth1 is wired to node i+1's eth2 (the shape Mininet's numbers are quoted for).
 */
import type { DesiredState } from "./desired-state.ts";
import { nodeNetnsName } from "./names.ts";

export interface RingOptions {
  /** Node name prefix (default "n"). */
  nodePrefix?: string;
  mtu?: number;
  ipForwarding?: boolean;
  loopbackUp?: boolean;
}

/** N nodes, N veth wires (`l<i>`), each node with eth1 towards the next and eth2 from the previous. */
export function ringState(topology: string, n: number, options: RingOptions = {}): DesiredState {
  const prefix = options.nodePrefix ?? "n";
  const nodes = Array.from({ length: n }, (_, i) => nodeNetnsName(topology, `${prefix}${i}`));
  return {
    topology,
    namespaces: nodes.map((name) => ({ name, loopbackUp: options.loopbackUp ?? true, ipForwarding: options.ipForwarding })),
    wires:
      n < 2
        ? []
        : nodes.map((netns, i) => ({
            kind: "veth" as const,
            uid: `l${i}`,
            a: { netns, ifname: "eth1", mtu: options.mtu },
            b: { netns: nodes[(i + 1) % n]!, ifname: "eth2", mtu: options.mtu },
          })).slice(0, n === 2 ? 1 : n),
  };
}
