/**
 * Timings of the data plane at scale (not a test; run as root):
 *   npx tsx libs/dataplane/test/measure-scale.ts [N...]
 * For each N: a ring of N namespaces and N veth wires, created by one converge pass, a second
 * (no-op) pass, and deleteTopology; plus the raw batches alone (netns add, wire creation).
 */
import { applyOperations, converge, deleteTopology, HOST_NETNS, type KernelOperation, ringState } from "../src/index.ts";

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 1);
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function rawBatches(n: number): Promise<string> {
  const t = `scale-raw-${process.pid.toString(36)}`;
  const names = Array.from({ length: n }, (_, i) => `kne.${t}.n${i}`);
  const add: KernelOperation[] = names.map((name) => ({ phase: "netns-add", tool: "ip", netns: HOST_NETNS, args: ["netns", "add", name], object: name }));
  const wires: KernelOperation[] = names.map((name, i) => ({
    phase: "create",
    tool: "ip",
    netns: HOST_NETNS,
    args: ["link", "add", "name", "eth1", "netns", name, "up", "type", "veth", "peer", "name", "eth2", "netns", names[(i + 1) % n]!],
    object: name,
  }));
  const a = await applyOperations(add);
  const w = await applyOperations(wires);
  const d = await deleteTopology(t);
  if (a.failures.length + w.failures.length + d.failures.length > 0) throw new Error("raw batches failed");
  return `raw: netns add ${ms(a.elapsedMs)}, ${n} veth ${ms(w.elapsedMs)}, delete ${ms(d.elapsedMs)}`;
}

async function ring(n: number): Promise<string> {
  const t = `scale-${n}-${process.pid.toString(36)}`;
  const desired = ringState(t, n);
  let started = performance.now();
  const first = await converge(desired);
  const firstMs = performance.now() - started;
  if (first.errors.length > 0) throw first.errors[0]!;
  started = performance.now();
  const second = await converge(desired);
  const secondMs = performance.now() - started;
  if (second.plan.operations.length > 0) throw new Error(`second pass planned ${second.plan.operations.length} operations`);
  started = performance.now();
  const del = await deleteTopology(t);
  const delMs = performance.now() - started;
  const phases = Object.entries(first.report.phaseMs).map(([p, v]) => `${p} ${ms(v!)}`).join(", ");
  return [
    `converge ${ms(firstMs)} (apply ${ms(first.report.elapsedMs)} in ${first.report.processes} processes: ${phases})`,
    `no-op pass ${ms(secondMs)}`,
    `deleteTopology ${ms(delMs)} (${del.deletedNamespaces.length} netns)`,
  ].join("; ");
}

for (const n of sizes.length > 0 ? sizes : [100, 500]) {
  console.log(`N=${n} ring: ${await ring(n)}`);
  await new Promise((r) => setTimeout(r, 2000)); // let the kernel finish tearing namespaces down
  console.log(`N=${n} ${await rawBatches(n)}`);
  await new Promise((r) => setTimeout(r, 2000));
}
