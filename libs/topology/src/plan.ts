/**
 * Planning: what changes between a running topology and the one a user now wants — the
 * input of `kne apply`. Nodes are matched by name, links by the wire they make (the pair
 * of endpoints, whichever is written first), segments by name.
 */
import { clone, create, equals } from "@bufbuild/protobuf";
import { topo, vendorDataRegistry } from "@kne/proto";
import { TopologyValidationError } from "./errors";
import { linkWireKey } from "./links";

/** One thing present on both sides that differs. */
export interface Change<T> {
  current: T;
  desired: T;
}

/** How one kind of thing (nodes, links, segments) changes. */
export interface ChangeSet<T> {
  add: T[];
  remove: T[];
  modify: Change<T>[];
  unchanged: T[];
}

export interface TopologyPlan {
  /** The topology's name (the same on both sides). */
  name: string;
  /** True when nothing is running yet: everything is added. */
  create: boolean;
  nodes: ChangeSet<topo.Node>;
  links: ChangeSet<topo.Link>;
  segments: ChangeSet<topo.Segment>;
  /** True when applying the plan would change nothing. */
  empty: boolean;
}

/**
 * Compares the running topology (undefined when none) with the desired one. Fields the
 * system fills in (interface peers and uids, pod IPs, service addresses) are ignored, so a
 * resolved running topology compares equal to the file it came from. Both sides should be
 * valid; exact duplicate links count once.
 */
export function planTopology(current: topo.Topology | undefined, desired: topo.Topology): TopologyPlan {
  if (current && current.name !== desired.name) {
    throw new TopologyValidationError([
      {
        path: "name",
        message: `the running topology is "${current.name}", the new one "${desired.name}": a topology cannot be renamed; delete it and create the new one`,
      },
    ]);
  }
  const nodes = diff(current?.nodes ?? [], desired.nodes, (node) => node.name, (a, b) =>
    equals(topo.NodeSchema, withoutFilledFields(a), withoutFilledFields(b), sameVendorData),
  );
  const links = diff(current?.links ?? [], desired.links, linkWireKey, (a, b) => equals(topo.LinkSchema, a, b));
  const segments = diff(current?.segments ?? [], desired.segments, (segment) => segment.name, (a, b) =>
    equals(topo.SegmentSchema, a, b),
  );
  const sets = [nodes, links, segments];
  return {
    name: desired.name,
    create: current === undefined,
    nodes,
    links,
    segments,
    empty: sets.every((set) => set.add.length === 0 && set.remove.length === 0 && set.modify.length === 0),
  };
}

function diff<T>(current: T[], desired: T[], keyOf: (item: T) => string, same: (a: T, b: T) => boolean): ChangeSet<T> {
  const currentByKey = firstByKey(current, keyOf);
  const desiredByKey = firstByKey(desired, keyOf);
  const result: ChangeSet<T> = { add: [], remove: [], modify: [], unchanged: [] };
  for (const [key, item] of desiredByKey) {
    const running = currentByKey.get(key);
    if (running === undefined) result.add.push(item);
    else if (same(running, item)) result.unchanged.push(item);
    else result.modify.push({ current: running, desired: item });
  }
  for (const [key, item] of currentByKey) {
    if (!desiredByKey.has(key)) result.remove.push(item);
  }
  return result;
}

function firstByKey<T>(items: T[], keyOf: (item: T) => string): Map<string, T> {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    if (!byKey.has(key)) byKey.set(key, item);
  }
  return byKey;
}

const emptyInterface = create(topo.InterfaceSchema);

/**
 * vendor_data is compared by content, not by its encoded bytes: the same message can
 * encode differently (map order), and a false "modified" would recreate a node.
 */
const sameVendorData = { registry: vendorDataRegistry, unpackAny: true };

/** A node without what resolution and the running system fill in. */
function withoutFilledFields(node: topo.Node): topo.Node {
  const copy = clone(topo.NodeSchema, node);
  copy.podIp = "";
  for (const [name, intf] of Object.entries(copy.interfaces)) {
    if (intf.intName === name) intf.intName = "";
    intf.peerName = "";
    intf.peerIntName = "";
    intf.uid = 0n;
    // An interface that only resolution created is not part of what the user asked for.
    if (equals(topo.InterfaceSchema, intf, emptyInterface)) delete copy.interfaces[name];
  }
  for (const [port, service] of Object.entries(copy.services)) {
    if (service.outside === Number(port)) service.outside = 0;
    service.outsideIp = "";
    service.insideIp = "";
    service.nodePort = 0;
  }
  return copy;
}
