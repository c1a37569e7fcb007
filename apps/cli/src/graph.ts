/** A topology as a picture: Graphviz DOT or Mermaid, nodes labelled with their vendor, edges with their interfaces. */
import { topo } from "@kne/proto";

export type GraphFormat = "dot" | "mermaid";

function vendor(node: topo.Node): string {
  return topo.Vendor[node.vendor] ?? String(node.vendor);
}

function dotId(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function mermaidId(s: string): string {
  return `n_${s.replace(/[^A-Za-z0-9_]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`)}`;
}

function mermaidText(s: string): string {
  return s.replace(/"/g, "#quot;");
}

export function renderGraph(t: topo.Topology, format: GraphFormat): string {
  const lines: string[] = [];
  if (format === "dot") {
    lines.push(`graph ${dotId(t.name)} {`, "  node [shape=box, style=rounded];");
    for (const n of t.nodes) lines.push(`  ${dotId(n.name)} [label=${dotId(`${n.name}\n${vendor(n)}`)}];`);
    for (const s of t.segments) lines.push(`  ${dotId(`segment:${s.name}`)} [label=${dotId(s.name)}, shape=ellipse];`);
    for (const l of t.links) {
      const z = l.kind === topo.LinkKind.LAN_SEGMENT ? `segment:${l.zNode}` : l.zNode;
      lines.push(`  ${dotId(l.aNode)} -- ${dotId(z)} [taillabel=${dotId(l.aInt)}, headlabel=${dotId(l.zInt)}];`);
    }
    lines.push("}");
  } else {
    lines.push("graph LR");
    for (const n of t.nodes) lines.push(`  ${mermaidId(n.name)}["${mermaidText(`${n.name} (${vendor(n)})`)}"]`);
    for (const s of t.segments) lines.push(`  ${mermaidId(`segment:${s.name}`)}(("${mermaidText(s.name)}"))`);
    for (const l of t.links) {
      const z = l.kind === topo.LinkKind.LAN_SEGMENT ? `segment:${l.zNode}` : l.zNode;
      const label = l.zInt ? `${l.aInt} — ${l.zInt}` : l.aInt;
      lines.push(`  ${mermaidId(l.aNode)} ---|"${mermaidText(label)}"| ${mermaidId(z)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
