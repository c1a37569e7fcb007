/**
 * Naming links in requests: a link id (`a_node:a_int--z_node:z_int`, endpoints in topology
 * order; the reversed form is accepted too) or either endpoint (`node:interface`).
 */
import type { topo } from "@kne/proto";
import { ManagerError } from "./errors.ts";

export function linkId(link: Pick<topo.Link, "aNode" | "aInt" | "zNode" | "zInt">): string {
  return `${link.aNode}:${link.aInt}--${link.zNode}:${link.zInt}`;
}

export function endpointRef(node: string, iface: string): string {
  return `${node}:${iface}`;
}

/** The link a reference names; NOT_FOUND (listing the links) when none does. */
export function findLink(topology: topo.Topology, ref: string): topo.Link {
  const trimmed = ref.trim();
  if (trimmed === "") throw new ManagerError("INVALID_ARGUMENT", "a link is required", [{ field: "link", description: "is required" }]);
  for (const link of topology.links) {
    const a = endpointRef(link.aNode, link.aInt);
    const z = endpointRef(link.zNode, link.zInt);
    if (trimmed === `${a}--${z}` || trimmed === `${z}--${a}` || trimmed === a || trimmed === z) return link;
  }
  const known = topology.links.map(linkId);
  throw new ManagerError(
    "NOT_FOUND",
    `topology ${topology.name} has no link ${JSON.stringify(trimmed)}; its links: ${known.length > 0 ? known.join(", ") : "none"}`,
  );
}

/** Which side of the link an endpoint reference names: "a", "z", or undefined for both. */
export function endpointSide(link: topo.Link, endpoint: string | undefined): "a" | "z" | undefined {
  if (endpoint === undefined || endpoint === "") return undefined;
  if (endpoint === endpointRef(link.aNode, link.aInt)) return "a";
  if (endpoint === endpointRef(link.zNode, link.zInt)) return "z";
  throw new ManagerError("INVALID_ARGUMENT", `${endpoint} is not an endpoint of link ${linkId(link)}`, [
    { field: "endpoint", description: `must be ${endpointRef(link.aNode, link.aInt)} or ${endpointRef(link.zNode, link.zInt)}` },
  ]);
}
