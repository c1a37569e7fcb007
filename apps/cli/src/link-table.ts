/** How link commands print links. */
import { managerv1, topo } from "@kne/proto";
import type { CliIo } from "./cli-io";
import { formatTable } from "./output";

function admin(state: topo.LinkState | undefined): string {
  return state === topo.LinkState.DOWN ? "down" : state === topo.LinkState.UP ? "up" : "-";
}

function oper(state: managerv1.OperState | undefined): string {
  return state === undefined ? "-" : (managerv1.OperState[state] ?? String(state)).toLowerCase().replace(/_/g, "-");
}

/** `loss 20% rate 50mbit`, or "-" when the endpoint is not impaired. */
export function describeImpairments(i: topo.Impairments | undefined): string {
  if (!i) return "-";
  const parts: string[] = [];
  if (i.lossPercent > 0) parts.push(`loss ${i.lossPercent}%`);
  if (i.rateKbps > 0n) parts.push(`rate ${i.rateKbps >= 1000n && i.rateKbps % 1000n === 0n ? `${i.rateKbps / 1000n}mbit` : `${i.rateKbps}kbit`}`);
  if (i.delayUs > 0) parts.push(`delay ${i.delayUs / 1000}ms`);
  if (i.jitterUs > 0) parts.push(`jitter ${i.jitterUs / 1000}ms`);
  if (i.corruptionPercent > 0) parts.push(`corrupt ${i.corruptionPercent}%`);
  if (i.duplicationPercent > 0) parts.push(`duplicate ${i.duplicationPercent}%`);
  if (i.reorderPercent > 0) parts.push(`reorder ${i.reorderPercent}%`);
  return parts.length > 0 ? parts.join(" ") : "-";
}

export function writeLinkTable(io: CliIo, links: readonly managerv1.LinkInfo[]): void {
  const rows = [["UID", "LINK", "A ADMIN/OPER", "Z ADMIN/OPER", "A→Z IMPAIRMENTS", "Z→A IMPAIRMENTS", "A TX/RX PKTS"]];
  for (const l of links) {
    rows.push([
      String(l.uid),
      l.id,
      `${admin(l.a?.adminState)}/${oper(l.a?.operState)}`,
      `${admin(l.z?.adminState)}/${oper(l.z?.operState)}`,
      describeImpairments(l.a?.impairments),
      describeImpairments(l.z?.impairments),
      l.a?.counters ? `${l.a.counters.txPackets}/${l.a.counters.rxPackets}` : "-",
    ]);
  }
  io.stdout.write(formatTable(rows));
}
