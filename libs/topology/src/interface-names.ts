/**
 * Vendor interface names in a topology: which names each node's links, segments and
 * `interfaces` use, the hook through which a vendor registry maps them to the Linux
 * interfaces inside the node (this library knows no vendor), and the way back from a
 * resolved topology to the Linux interface of a name as written.
 */
import type { topo } from "@kne/proto";
import { hostAttachmentNode } from "./constants";

/** A node's names as its vendor maps them (what `@kne/vendors`' `mapInterfaceNames` returns). */
export interface MappedInterfaceNames {
  /** The vendor's enum name, for messages. */
  readonly vendor: string;
  /** The vendor's rule in one line, for messages. */
  readonly rule: string;
  /** Name as written → Linux interface in the node. */
  readonly linux: ReadonlyMap<string, string>;
  /** Name as written → why the vendor refuses it. */
  readonly problems: ReadonlyMap<string, string>;
}

/**
 * Maps the names written for one node; undefined (names are Linux names as written) for a
 * vendor the mapper does not know. Without a mapper every name is a Linux name as written.
 */
export type InterfaceNameMapper = (node: topo.Node, names: readonly string[]) => MappedInterfaceNames | undefined;

/**
 * Every data interface name the topology writes for each node, in file order: `interfaces`
 * entries, link ends, segment endpoints. An entry that a resolution already renamed (keyed
 * by its Linux name, `int_name` the name as written) counts by its `int_name`, so that
 * resolving a resolved topology changes nothing.
 */
export function interfaceNamesByNode(topology: topo.Topology): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  const add = (node: string, name: string): void => {
    if (node === "" || name === "") return;
    let names = out.get(node);
    if (!names) out.set(node, (names = new Set()));
    names.add(name);
  };
  for (const node of topology.nodes) {
    for (const [key, intf] of Object.entries(node.interfaces)) add(node.name, intf.intName !== "" ? intf.intName : key);
  }
  for (const link of topology.links) {
    add(link.aNode, link.aInt);
    if (link.zNode !== hostAttachmentNode) add(link.zNode, link.zInt);
  }
  for (const segment of topology.segments) for (const ep of segment.endpoints) add(ep.node, ep.interface);
  return new Map([...out].map(([node, names]) => [node, [...names]]));
}

/** Runs the mapper over every node (the first node of each name). */
export function mapTopologyInterfaceNames(topology: topo.Topology, mapper: InterfaceNameMapper | undefined): Map<string, MappedInterfaceNames> {
  const out = new Map<string, MappedInterfaceNames>();
  if (!mapper) return out;
  const names = interfaceNamesByNode(topology);
  for (const node of topology.nodes) {
    if (out.has(node.name)) continue;
    const mapped = mapper(node, names.get(node.name) ?? []);
    if (mapped) out.set(node.name, mapped);
  }
  return out;
}

/**
 * The Linux interface of a name as written, on a node of a resolved topology: the key of the
 * interface whose `int_name` is that name (a vendor renamed it), else the name itself.
 */
export function linuxInterfaceOf(node: topo.Node | undefined, written: string): string {
  if (!node || node.interfaces[written]?.intName === written) return written;
  for (const [key, intf] of Object.entries(node.interfaces)) if (intf.intName === written) return key;
  return written;
}
