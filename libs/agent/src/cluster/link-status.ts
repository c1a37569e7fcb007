/**
 * The observed state of a topology's Links, as the agent that made their wires sees them in
 * the pods' namespaces: per endpoint Up (admin up with carrier), Down (admin down),
 * LowerLayerDown (up, no carrier: the far end is down or gone) or Absent (no such interface),
 * and the link's own state (Up only when both ends are). Written to each Link's status
 * subresource when it changed, so `kubectl get links` and the manager read the kernel's word.
 */
import type { ObservedInterface } from "@kne/dataplane";
import { parseEndpoint } from "./cluster-wires.ts";
import type { LinkObjectLike } from "./cluster-wires.ts";

export type EndpointOperState = "Up" | "Down" | "LowerLayerDown" | "Absent";

export interface LinkStatus {
  operState: EndpointOperState;
  aOperState: EndpointOperState;
  zOperState: EndpointOperState;
}

export function endpointOperState(observed: ObservedInterface | undefined): EndpointOperState {
  if (!observed) return "Absent";
  if (!observed.adminUp) return "Down";
  return observed.carrier ? "Up" : "LowerLayerDown";
}

function linkOperState(a: EndpointOperState, z: EndpointOperState): EndpointOperState {
  if (a === "Up" && z === "Up") return "Up";
  if (a === "Absent" || z === "Absent") return "Absent";
  if (a === "Down" || z === "Down") return "Down";
  return "LowerLayerDown";
}

/**
 * The status of each Link whose two ends are in `netnsOfNode` (nodes wired on this node);
 * `interfaces` maps a namespace to its interfaces by name.
 */
export function linkStatuses(
  links: readonly LinkObjectLike[],
  netnsOfNode: ReadonlyMap<string, string>,
  interfaces: ReadonlyMap<string, ReadonlyMap<string, ObservedInterface>>,
): Map<LinkObjectLike, LinkStatus> {
  const out = new Map<LinkObjectLike, LinkStatus>();
  for (const link of links) {
    let a, z;
    try {
      a = parseEndpoint(link.spec.a, "a");
      z = parseEndpoint(link.spec.z, "z");
    } catch {
      continue;
    }
    const nsA = netnsOfNode.get(a.node);
    const nsZ = netnsOfNode.get(z.node);
    if (!nsA || !nsZ) continue;
    const aState = endpointOperState(interfaces.get(nsA)?.get(a.interface));
    const zState = endpointOperState(interfaces.get(nsZ)?.get(z.interface));
    out.set(link, { operState: linkOperState(aState, zState), aOperState: aState, zOperState: zState });
  }
  return out;
}
