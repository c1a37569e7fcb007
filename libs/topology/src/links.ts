/**
 * How links are told apart: by their four endpoint fields (exact duplicates), and by the
 * pair of endpoints regardless of direction (the same wire, for planning changes).
 */
import type { topo } from "@kne/proto";

/** The four endpoint fields of a link, joined with a separator no name contains. */
export function linkEndpointsKey(link: topo.Link): string {
  return [link.aNode, link.aInt, link.zNode, link.zInt].join("\u0000");
}

/** The wire a link makes, the same whichever end is written first. */
export function linkWireKey(link: topo.Link): string {
  const a = `${link.aNode}\u0000${link.aInt}`;
  const z = `${link.zNode}\u0000${link.zInt}`;
  return a <= z ? `${a}\u0001${z}` : `${z}\u0001${a}`;
}

/** `r1:eth1 -- r2:eth1`, for messages. */
export function describeLink(link: topo.Link): string {
  return `${link.aNode}:${link.aInt} -- ${link.zNode}:${link.zInt}`;
}
