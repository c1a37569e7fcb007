/**
 * Topology loading benchmark: load + validate (+ resolve) of upstream's 150-node ring and
 * of a generated 5,000-node / 10,000-link topology in all three formats, against a peer
 * in the same run: protobuf-es's own parsers (`fromText` for text format, `JSON.parse` +
 * `fromJson` for JSON), which parse without positions, schema walk or validation.
 *
 * Run: npm run bench:topology -w @kne/bench   (or: npx tsx tools/bench/topology/run.ts)
 * Prints a table and the target check; exits 1 when the 5,000-node target is missed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { fromText } from "@bufbuild/protobuf/txtpb";
import { topo, vendorDataRegistry } from "@kne/proto";
import { loadTopology, resolveTopology, serializeTopology, validateTopology, type TopologyFormat } from "@kne/topology";

const iterations = 7;
const targetMs = 500;
const generatedNodes = 5_000;
/** Every node has a ring link and a chord link on each side: links = 2 × nodes. */
const chordStride = 7;

function workspaceRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, "nx.json"))) return dir;
  }
  throw new Error("no nx.json above the benchmark");
}

/**
 * A 5,000-node topology written as text, as a user would: a ring (eth1 → next node's eth2)
 * plus chords (eth3 → the node 7 ahead's eth4), so every node has four wired interfaces.
 */
function generatedTopologyText(nodes: number): string {
  const out: string[] = [`name: "gen-${nodes}"`];
  for (let i = 0; i < nodes; i++) {
    out.push(
      `nodes: {\n  name: "r${i}"\n  vendor: HOST\n  config: {\n    image: "alpine:latest"\n    command: "/bin/sh"\n  }\n` +
        `  services: {\n    key: 22\n    value: { name: "ssh" inside: 22 }\n  }\n}`,
    );
  }
  for (let i = 0; i < nodes; i++) {
    out.push(`links: {\n  a_node: "r${i}"\n  a_int: "eth1"\n  z_node: "r${(i + 1) % nodes}"\n  z_int: "eth2"\n}`);
    out.push(`links: {\n  a_node: "r${i}"\n  a_int: "eth3"\n  z_node: "r${(i + chordStride) % nodes}"\n  z_int: "eth4"\n}`);
  }
  return `${out.join("\n")}\n`;
}

interface Sample {
  loadMs: number;
  validateMs: number;
  resolveMs: number;
}

interface Row {
  input: string;
  format: string;
  nodes: number;
  links: number;
  bytes: number;
  samples: Sample[];
  heapDeltaMb: number;
  rssMb: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(input: string, file: string): Promise<Row> {
  const bytes = readFileSync(file).length;
  // One untimed run warms the JIT and the file cache.
  const warm = await loadTopology(file);
  validateTopology(warm.topology, warm);
  const samples: Sample[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const loaded = await loadTopology(file);
    const t1 = performance.now();
    const result = validateTopology(loaded.topology, loaded);
    const t2 = performance.now();
    resolveTopology(loaded.topology);
    const t3 = performance.now();
    if (result.errors.length > 0) throw new Error(`${input}: ${result.errors.length} validation errors, first: ${result.errors[0]!.message}`);
    samples.push({ loadMs: t1 - t0, validateMs: t2 - t1, resolveMs: t3 - t2 });
  }
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const kept = await loadTopology(file);
  validateTopology(kept.topology, kept);
  gc?.();
  const memory = process.memoryUsage();
  const row: Row = {
    input,
    format: kept.format,
    nodes: kept.topology.nodes.length,
    links: kept.topology.links.length,
    bytes,
    samples,
    heapDeltaMb: (memory.heapUsed - heapBefore) / 2 ** 20,
    rssMb: memory.rss / 2 ** 20,
  };
  return row;
}

/** The peer: protobuf-es parsing the same bytes with no positions, schema walk or validation. */
function measurePeer(input: string, file: string, format: TopologyFormat): Row | undefined {
  if (format === "yaml") return undefined;
  const text = readFileSync(file, "utf8");
  const parse = () =>
    format === "textproto"
      ? fromText(topo.TopologySchema, text, { registry: vendorDataRegistry })
      : fromJson(topo.TopologySchema, JSON.parse(text), { registry: vendorDataRegistry });
  const first = parse();
  const samples: Sample[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    parse();
    samples.push({ loadMs: performance.now() - t0, validateMs: 0, resolveMs: 0 });
  }
  return { input: `${input} [peer: protobuf-es ${format === "textproto" ? "fromText" : "fromJson"}]`, format, nodes: first.nodes.length, links: first.links.length, bytes: text.length, samples, heapDeltaMb: Number.NaN, rssMb: process.memoryUsage().rss / 2 ** 20 };
}

function formatRow(row: Row): string[] {
  const stat = (pick: (s: Sample) => number) => {
    const values = row.samples.map(pick);
    return `${median(values).toFixed(1)} / ${Math.min(...values).toFixed(1)}`;
  };
  const isPeer = row.input.includes("[peer");
  return [
    row.input,
    row.format,
    String(row.nodes),
    String(row.links),
    `${(row.bytes / 1024).toFixed(0)} KiB`,
    stat((s) => s.loadMs),
    isPeer ? "-" : stat((s) => s.validateMs),
    isPeer ? "-" : stat((s) => s.resolveMs),
    stat((s) => s.loadMs + s.validateMs),
    Number.isNaN(row.heapDeltaMb) ? "-" : row.heapDeltaMb.toFixed(1),
    row.rssMb.toFixed(0),
  ];
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
    if (index === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

async function main(): Promise<void> {
  const upstream = join(workspaceRoot(), "..", "shared", "kne-compat", "upstream-examples", "examples", "arista", "ceos-150", "ceos-150.pb.txt");
  const dir = mkdtempSync(join(tmpdir(), "kne-bench-topology-"));
  try {
    const textFile = join(dir, `gen-${generatedNodes}.pb.txt`);
    writeFileSync(textFile, generatedTopologyText(generatedNodes));
    const generated = await loadTopology(textFile);
    const yamlFile = join(dir, `gen-${generatedNodes}.yaml`);
    const jsonFile = join(dir, `gen-${generatedNodes}.json`);
    writeFileSync(yamlFile, serializeTopology(generated.topology, "yaml"));
    writeFileSync(jsonFile, serializeTopology(generated.topology, "json"));

    const inputs: [string, string, TopologyFormat][] = [
      ["ceos-150 (upstream)", upstream, "textproto"],
      [`generated ${generatedNodes}`, textFile, "textproto"],
      [`generated ${generatedNodes}`, yamlFile, "yaml"],
      [`generated ${generatedNodes}`, jsonFile, "json"],
    ];
    const rows: Row[] = [];
    for (const [input, file, format] of inputs) {
      rows.push(await measure(input, file));
      const peer = measurePeer(input, file, format);
      if (peer) rows.push(peer);
    }

    console.log(`Topology load + validate, ${iterations} runs each after a warm-up; times in ms as median / min.`);
    console.log(`Node ${process.version}, ${process.platform}/${process.arch}${gc ? "" : " (run with --expose-gc for exact heap numbers)"}.\n`);
    printTable([
      ["input", "format", "nodes", "links", "size", "load", "validate", "resolve", "load+validate", "heap Δ MB", "rss MB"],
      ...rows.map(formatRow),
    ]);

    const target = rows.find((row) => row.input === `generated ${generatedNodes}` && row.format === "textproto")!;
    const loadAndValidate = median(target.samples.map((s) => s.loadMs + s.validateMs));
    const pass = loadAndValidate < targetMs;
    console.log(
      `\n${generatedNodes.toLocaleString("en-US")}-node load+validate: ${loadAndValidate.toFixed(0)} ms (target < ${targetMs} ms): ${pass ? "PASS" : "FAIL"}`,
    );
    if (!pass) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
