/**
 * From a resolved topology (and what was set on it since) to the agent's desired wires.
 * Pure, so that an unchanged link compiles to the same wire every time: `kne apply` sends
 * the whole state again and the agent touches only what differs.
 */
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { agentv1, topo } from "@kne/proto";
import { hostAttachmentNode, linkWireKey, linuxInterfaceOf } from "@kne/topology";
import type { TopologyState } from "./state-store.ts";

/**
 * Link uids: links already running keep theirs; new ones get the next free numbers, in file
 * order (a new topology numbers its links from 0, as upstream does).
 */
export function assignLinkUids(links: readonly topo.Link[], existing: Readonly<Record<string, number>> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  let next = Math.max(-1, ...Object.values(existing)) + 1;
  for (const link of links) {
    const key = linkWireKey(link);
    if (out[key] !== undefined) continue;
    if (existing[key] !== undefined) out[key] = existing[key]!;
    else out[key] = next++;
  }
  return out;
}

/** Puts the manager's stable uids on the interfaces resolution filled in. */
export function applyLinkUids(resolved: topo.Topology, uids: Readonly<Record<string, number>>): void {
  const nodes = new Map(resolved.nodes.map((n) => [n.name, n]));
  for (const link of resolved.links) {
    const uid = uids[linkWireKey(link)];
    if (uid === undefined) continue;
    const aNode = nodes.get(link.aNode);
    const a = aNode?.interfaces[linuxInterfaceOf(aNode, link.aInt)];
    if (a) a.uid = BigInt(uid);
    const zNode = nodes.get(link.zNode);
    const z = zNode?.interfaces[linuxInterfaceOf(zNode, link.zInt)];
    if (z) z.uid = BigInt(uid);
  }
}

export function impairmentsFromJson(value: unknown): topo.Impairments {
  return fromJson(topo.ImpairmentsSchema, (value ?? {}) as JsonValue);
}

export function impairmentsToJson(value: topo.Impairments | undefined): JsonValue {
  return toJson(topo.ImpairmentsSchema, value ?? create(topo.ImpairmentsSchema));
}

/** Egress impairments of one endpoint: what was set since creation, else the link's own. */
export function endpointEgress(link: topo.Link, side: "a" | "z", state: Pick<TopologyState, "impairments">): topo.Impairments | undefined {
  const ref = side === "a" ? `${link.aNode}:${link.aInt}` : `${link.zNode}:${link.zInt}`;
  const set = state.impairments[ref];
  if (set !== undefined) return impairmentsFromJson(set);
  return (side === "a" ? link.aToZ : link.zToA) ?? link.impairments;
}

/** Admin state of one endpoint: what was set since creation, else the link's own. */
export function endpointState(link: topo.Link, side: "a" | "z", state: Pick<TopologyState, "linkState">): topo.LinkState {
  const ref = side === "a" ? `${link.aNode}:${link.aInt}` : `${link.zNode}:${link.zInt}`;
  const set = state.linkState[ref];
  if (set !== undefined) return set === "DOWN" ? topo.LinkState.DOWN : topo.LinkState.UP;
  return link.adminState === topo.LinkState.DOWN ? topo.LinkState.DOWN : topo.LinkState.UP;
}

/** A link end as the agent wires it: the Linux interface its vendor makes of the name written. */
function localEndpoint(resolved: Map<string, topo.Node>, node: string, written: string): agentv1.LocalEndpoint {
  const linux = linuxInterfaceOf(resolved.get(node), written);
  const intf = resolved.get(node)?.interfaces[linux];
  return create(agentv1.LocalEndpointSchema, {
    node,
    interface: linux,
    mtu: intf?.mtu ?? 0,
    addresses: intf?.ipAddress ? [intf.ipAddress] : [],
  });
}

/**
 * The agent's ApplyWires request for the whole topology; `bridgePort` gives a node its port
 * on the management segment (the agent makes it with the wires).
 */
export function wiresRequest(
  resolved: topo.Topology,
  state: Pick<TopologyState, "linkUids" | "linkState" | "impairments">,
  generation: number,
  bridgePort?: (node: string) => agentv1.BridgePort | undefined,
): agentv1.ApplyWiresRequest {
  const nodes = new Map(resolved.nodes.map((n) => [n.name, n]));
  const wires: agentv1.Wire[] = [];
  const seen = new Set<string>();
  for (const link of resolved.links) {
    const key = linkWireKey(link);
    if (seen.has(key)) continue;
    seen.add(key);
    const uid = state.linkUids[key];
    if (uid === undefined) throw new Error(`link ${key} has no uid`);
    const wire = create(agentv1.WireSchema, {
      uid: BigInt(uid),
      a: localEndpoint(nodes, link.aNode, link.aInt),
      aState: endpointState(link, "a", state),
      aEgress: endpointEgress(link, "a", state),
    });
    if (link.kind === topo.LinkKind.LAN_SEGMENT) {
      wire.peer = { case: "segment", value: link.zNode };
    } else if (link.kind === topo.LinkKind.HOST_ATTACHMENT || link.zNode === hostAttachmentNode) {
      wire.peer = { case: "hostInterface", value: link.zInt };
    } else {
      wire.peer = { case: "z", value: localEndpoint(nodes, link.zNode, link.zInt) };
      wire.zState = endpointState(link, "z", state);
      wire.zEgress = endpointEgress(link, "z", state);
    }
    wires.push(wire);
  }
  // Segment members named in `segments` rather than by links.
  let segmentUid = Math.max(-1, ...Object.values(state.linkUids)) + 1_000_000;
  const wired = new Set(wires.flatMap((w) => [`${w.a!.node}:${w.a!.interface}`, ...(w.peer.case === "z" ? [`${w.peer.value.node}:${w.peer.value.interface}`] : [])]));
  for (const segment of resolved.segments) {
    for (const ep of segment.endpoints) {
      if (wired.has(`${ep.node}:${ep.interface}`)) continue;
      const uid = nodes.get(ep.node)?.interfaces[ep.interface]?.uid;
      wires.push(
        create(agentv1.WireSchema, {
          uid: uid !== undefined && uid !== 0n ? uid : BigInt(segmentUid++),
          a: localEndpoint(nodes, ep.node, ep.interface),
          peer: { case: "segment", value: segment.name },
        }),
      );
    }
  }
  return create(agentv1.ApplyWiresRequestSchema, {
    topology: resolved.name,
    generation: BigInt(generation),
    namespaces: resolved.nodes.map((n) => {
      const port = bridgePort?.(n.name);
      return create(agentv1.NodeNamespaceSchema, { node: n.name, create: true, ...(port ? { bridgePort: port } : {}) });
    }),
    wires,
  });
}
