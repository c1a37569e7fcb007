/**
 * From the cluster's objects to the agent's desired state: the `Link` objects of a topology
 * and the namespaces of its pods on this node become one ApplyWiresRequest (without its
 * generation). Pure, so the rules are unit-tested:
 * - a link whose two ends are pods on this node with a known namespace is a veth wire,
 *   named by the link's endpoints (`node:interface`), uid from the Link;
 * - a link with an end elsewhere (another node: VXLAN, not yet) or not yet handed off (the
 *   pod's sandbox is still being made) is left out, with the reason, until it can be made;
 * - admin state and impairments per direction come from the Link's spec, so SetLinkState and
 *   impairments written by the manager reach the pods' interfaces through the same pass.
 */
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError, validateIfname, validateNodeName } from "@kne/dataplane";
import { agentv1, topo } from "@kne/proto";

/** The kne.dev labels that tie a pod to its topology and node (libs/vendors' kube shape). */
export const TOPOLOGY_LABEL = "kne.dev/topology";
export const NODE_LABEL = "kne.dev/node";

export interface LinkSpec {
  topology: string;
  uid?: number;
  a: string;
  z: string;
  kind?: string;
  adminState?: "Up" | "Down";
  aAdminState?: "Up" | "Down";
  zAdminState?: "Up" | "Down";
  aToZ?: Record<string, number> | null;
  zToA?: Record<string, number> | null;
}

export interface LinkObjectLike {
  metadata: { name: string; namespace?: string };
  spec: LinkSpec;
}

/** A topology node's pod on this node, with the namespace its sandbox handed off. */
export interface LocalPod {
  node: string;
  /** The Kubernetes namespace the pod lives in. */
  namespace: string;
  netnsName: string;
}

export interface SkippedLink {
  link: string;
  reason: string;
}

export interface ClusterWires {
  request: agentv1.ApplyWiresRequest;
  skipped: SkippedLink[];
}

/** `node:interface` split at the last colon (interface names have none; node names neither). */
export function parseEndpoint(text: string, field: string): { node: string; interface: string } {
  const at = text.lastIndexOf(":");
  if (at <= 0 || at === text.length - 1) throw new InvalidArgumentError(`${JSON.stringify(text)} must be node:interface`, field);
  const node = validateNodeName(text.slice(0, at), field);
  const iface = validateIfname(text.slice(at + 1), field);
  return { node, interface: iface };
}

function stateOf(link: LinkSpec, end: "a" | "z"): topo.LinkState {
  const own = end === "a" ? link.aAdminState : link.zAdminState;
  const state = own ?? link.adminState;
  return state === "Down" ? topo.LinkState.DOWN : topo.LinkState.UP;
}

function impairmentsOf(json: Record<string, number> | null | undefined): topo.Impairments | undefined {
  if (!json || Object.keys(json).length === 0) return undefined;
  const { rateKbps, ...rest } = json;
  return fromJson(topo.ImpairmentsSchema, { ...rest, ...(rateKbps !== undefined ? { rateKbps: String(rateKbps) } : {}) } as JsonValue);
}

/** Kinds a veth between two pods carries: plain point-to-point links. */
const VETH_KINDS = new Set([undefined, "", "UNSPECIFIED", "POINT_TO_POINT", "LINK_KIND_UNSPECIFIED", "LINK_KIND_POINT_TO_POINT"]);

export function clusterWires(topology: string, links: readonly LinkObjectLike[], pods: readonly LocalPod[]): ClusterWires {
  const skipped: SkippedLink[] = [];
  const netnsOf = new Map(pods.map((p) => [p.node, p]));
  const wires: agentv1.Wire[] = [];
  const usedNodes = new Set<string>();
  for (const link of [...links].sort((x, y) => x.metadata.name.localeCompare(y.metadata.name))) {
    const name = `${link.metadata.namespace ?? ""}/${link.metadata.name}`;
    let a, z;
    try {
      a = parseEndpoint(link.spec.a, `links[${name}].spec.a`);
      z = parseEndpoint(link.spec.z, `links[${name}].spec.z`);
    } catch (err) {
      skipped.push({ link: name, reason: (err as Error).message });
      continue;
    }
    if (!VETH_KINDS.has(link.spec.kind)) {
      skipped.push({ link: name, reason: `kind ${link.spec.kind} is not wired in the cluster yet` });
      continue;
    }
    if (link.spec.uid === undefined || !Number.isSafeInteger(link.spec.uid) || link.spec.uid < 0) {
      skipped.push({ link: name, reason: "spec.uid is missing" });
      continue;
    }
    const podA = netnsOf.get(a.node);
    const podZ = netnsOf.get(z.node);
    if (!podA || !podZ) {
      const missing = [!podA ? a.node : undefined, !podZ ? z.node : undefined].filter(Boolean).join(", ");
      skipped.push({ link: name, reason: `no sandbox of ${missing} on this node (another node, or not handed off yet)` });
      continue;
    }
    usedNodes.add(a.node);
    usedNodes.add(z.node);
    wires.push(
      create(agentv1.WireSchema, {
        uid: BigInt(link.spec.uid),
        a: { node: a.node, interface: a.interface },
        peer: { case: "z", value: create(agentv1.LocalEndpointSchema, { node: z.node, interface: z.interface }) },
        aState: stateOf(link.spec, "a"),
        zState: stateOf(link.spec, "z"),
        aEgress: impairmentsOf(link.spec.aToZ),
        zEgress: impairmentsOf(link.spec.zToA),
      }),
    );
  }
  const namespaces = [...usedNodes].sort().map((node) => create(agentv1.NodeNamespaceSchema, { node, netns: netnsOf.get(node)!.netnsName }));
  return { request: create(agentv1.ApplyWiresRequestSchema, { topology, namespaces, wires }), skipped };
}
