/**
 * Resolution: what upstream KNE fills in before it creates anything. Every link endpoint
 * becomes an interface of its node, carrying its peer and the link's uid, so that the
 * data plane (which wires interfaces) never looks at links again.
 */
import { clone, create, equals } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { TopologyValidationError } from "./errors";
import { hostAttachmentNode } from "./constants";
import { type InterfaceNameMapper, mapTopologyInterfaceNames } from "./interface-names";
import { linkEndpointsKey } from "./links";

export interface ResolveOptions {
  /**
   * The uid of the first link. Upstream numbers links in file order from 0 (the meshnet
   * link id; VXLAN VNI = 5000 + uid), and so do we by default.
   */
  firstLinkUid?: number;
  /**
   * Resolve the given message itself instead of a copy: for a caller that made it for this
   * (a deep copy of a 100-node topology costs ~10 ms).
   */
  inPlace?: boolean;
  /**
   * The vendors' interface naming (`mapInterfaceNames` of `@kne/vendors`). A name the vendor
   * renames (Ciena `1/5/1`) becomes an interface keyed by its Linux name (`eth1`) whose
   * `int_name` is the name as written, as upstream's node does before it makes the pod.
   */
  interfaceNames?: InterfaceNameMapper;
}

/**
 * Returns a resolved copy of a valid topology (the input is not changed):
 * - every interface is keyed by its Linux interface and has `int_name`: the name as written
 *   (its map key unless a vendor renames it: Ciena `1/5/1` is `interfaces[eth1]` with
 *   `int_name: "1/5/1"`), unless set;
 * - every link endpoint on a node has an interface with `peer_name`, `peer_int_name` and
 *   the link's `uid` (uids in link order; exact duplicate links are skipped, as validation
 *   warns). A LAN-segment endpoint's peer is the segment; a host attachment's peer is
 *   `host` and the host interface. Segment endpoints listed in `segments` follow the
 *   links, in order.
 * Resolving a resolved topology changes nothing. Throws TopologyValidationError for what
 * validation reports as errors (unknown nodes, an interface wired twice).
 */
export function resolveTopology(topology: topo.Topology, options: ResolveOptions = {}): topo.Topology {
  const firstLinkUid = options.firstLinkUid ?? 0;
  if (!Number.isSafeInteger(firstLinkUid) || firstLinkUid < 0) {
    throw new TypeError(`resolveTopology: firstLinkUid must be a non-negative integer, got ${firstLinkUid}`);
  }
  const resolved = options.inPlace ? topology : clone(topo.TopologySchema, topology);
  const naming = mapTopologyInterfaceNames(resolved, options.interfaceNames);
  const linuxName = (path: string, nodeName: string, written: string): string => {
    const mapped = naming.get(nodeName);
    const problem = mapped?.problems.get(written);
    if (problem !== undefined) throw invalid(path, `interface name "${written}" ${problem} (${mapped!.vendor}: ${mapped!.rule})`);
    return mapped?.linux.get(written) ?? written;
  };
  const nodes = new Map<string, topo.Node>();
  for (const node of resolved.nodes) {
    if (!nodes.has(node.name)) nodes.set(node.name, node);
    for (const [name, intf] of Object.entries(node.interfaces)) {
      if (intf.intName === "") intf.intName = name;
      const linux = linuxName(`nodes[${node.name}].interfaces[${name}]`, node.name, name);
      if (linux === name) continue;
      if (node.interfaces[linux]) throw invalid(`nodes[${node.name}].interfaces[${name}]`, `interface "${name}" is the Linux interface ${linux}, which the node also lists`);
      delete node.interfaces[name];
      node.interfaces[linux] = intf;
    }
  }

  const wired = new Set<string>();
  const seenLinks = new Map<string, topo.Link[]>();
  let uid = BigInt(firstLinkUid);

  const connect = (path: string, nodeName: string, intName: string, peerName: string, peerIntName: string, linkUid: bigint): void => {
    const node = nodes.get(nodeName);
    if (!node) throw invalid(path, `unknown node "${nodeName}"`);
    const linux = linuxName(path, nodeName, intName);
    const key = `${nodeName}\u0000${linux}`;
    if (wired.has(key)) throw invalid(path, `interface ${nodeName}:${intName} is wired more than once`);
    wired.add(key);
    // The peer's name as written, as upstream leaves it (its Linux name is the peer interface's key).
    const intf = (node.interfaces[linux] ??= create(topo.InterfaceSchema, { intName }));
    if (intf.intName === "") intf.intName = intName;
    intf.peerName = peerName;
    intf.peerIntName = peerIntName;
    intf.uid = linkUid;
  };

  resolved.links.forEach((link, index) => {
    const endpointsKey = linkEndpointsKey(link);
    const same = seenLinks.get(endpointsKey) ?? [];
    if (same.some((earlier) => equals(topo.LinkSchema, earlier, link))) return;
    seenLinks.set(endpointsKey, [...same, link]);
    const path = `links[${index}]`;
    switch (link.kind) {
      case topo.LinkKind.LAN_SEGMENT:
        connect(path, link.aNode, link.aInt, link.zNode, "", uid);
        break;
      case topo.LinkKind.HOST_ATTACHMENT:
        connect(path, link.aNode, link.aInt, hostAttachmentNode, link.zInt, uid);
        break;
      default:
        if (link.aNode === link.zNode && link.aInt === link.zInt) throw invalid(path, "link connects an interface to itself");
        connect(path, link.aNode, link.aInt, link.zNode, link.zInt, uid);
        connect(path, link.zNode, link.zInt, link.aNode, link.aInt, uid);
    }
    uid++;
  });

  resolved.segments.forEach((segment, segmentIndex) => {
    segment.endpoints.forEach((endpoint, endpointIndex) => {
      connect(`segments[${segmentIndex}].endpoints[${endpointIndex}]`, endpoint.node, endpoint.interface, segment.name, "", uid);
      uid++;
    });
  });
  return resolved;
}

function invalid(path: string, message: string): TopologyValidationError {
  return new TopologyValidationError([{ path, message }]);
}
