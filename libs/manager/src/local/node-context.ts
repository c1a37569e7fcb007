/**
 * The vendor runtime's view of a node (`LocalNodeContext`), built the same way in the
 * manager (push, reset, save) and in the supervisor (processes, readiness), from the
 * state directory alone.
 */
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { topo, vendorDataRegistry } from "@kne/proto";
import { type LocalNodeContext, type NodeProcessControl, nsenterExec } from "@kne/vendors";
import type { NodeRecord } from "./state-store.ts";

export function topologyToJson(t: topo.Topology): JsonValue {
  return toJson(topo.TopologySchema, t, { registry: vendorDataRegistry });
}

export function topologyFromJson(value: unknown): topo.Topology {
  return fromJson(topo.TopologySchema, value as JsonValue, { registry: vendorDataRegistry });
}

export function bootConfigOf(node: topo.Node): Uint8Array | undefined {
  const data = node.config?.configData;
  return data?.case === "data" && data.value.length > 0 ? data.value : undefined;
}

/** Environment every process and command of a node gets (no UTS namespace: the name travels here). */
export function nodeEnvironment(topology: string, node: string): Record<string, string> {
  return { HOSTNAME: node, KNE_NODE: node, KNE_TOPOLOGY: topology };
}

export function nodeContext(topology: string, node: topo.Node, record: NodeRecord, processes: NodeProcessControl): LocalNodeContext {
  const exec = nsenterExec(record.netns);
  const env = nodeEnvironment(topology, node.name);
  const boot = bootConfigOf(node);
  return {
    topology,
    node,
    netns: record.netns,
    nodeDir: record.nodeDir,
    ...(boot ? { bootConfig: boot } : {}),
    ...(record.managementAddress ? { managementAddress: record.managementAddress } : {}),
    exec: (argv, options) => exec(argv, { ...options, env: { ...env, ...options?.env } }),
    processes,
  };
}
