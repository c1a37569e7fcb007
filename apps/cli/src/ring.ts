/**
 * Generated ring topologies: a ring of N Linux hosts (each with eth1 to the next node's
 * eth2), or upstream's form — the first node of a file cloned COUNT times as `<name>-i`,
 * node i's eth{j} wired to node (i+1)%COUNT's eth{j+LINKS}.
 */
import { clone, create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";

export function hostRing(name: string, count: number): topo.Topology {
  const t = create(topo.TopologySchema, { name });
  for (let i = 0; i < count; i++) t.nodes.push(create(topo.NodeSchema, { name: `h${i + 1}`, vendor: topo.Vendor.HOST }));
  if (count < 2) return t;
  for (let i = 0; i < count; i++) {
    if (count === 2 && i === 1) break;
    t.links.push(create(topo.LinkSchema, { aNode: `h${i + 1}`, aInt: "eth1", zNode: `h${((i + 1) % count) + 1}`, zInt: "eth2" }));
  }
  return t;
}

export function cloneRing(base: topo.Topology, count: number, links: number): topo.Topology {
  const first = base.nodes[0];
  if (!first) throw new Error(`topology ${base.name} has no node to clone`);
  const t = create(topo.TopologySchema, { name: base.name });
  for (let i = 0; i < count; i++) {
    const node = clone(topo.NodeSchema, first);
    node.name = `${first.name}-${i}`;
    node.interfaces = {};
    t.nodes.push(node);
  }
  for (let i = 0; i < count; i++) {
    if (count === 2 && i === 1) break;
    for (let j = 1; j <= links; j++) {
      t.links.push(create(topo.LinkSchema, { aNode: `${first.name}-${i}`, aInt: `eth${j}`, zNode: `${first.name}-${(i + 1) % count}`, zInt: `eth${j + links}` }));
    }
  }
  return t;
}
