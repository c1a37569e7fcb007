// Watches, limits, deadlines and cancellation of the public API, proved against the real
// topology-manager process over gRPC (HTTP/2 on loopback) with a ring of HOST nodes.
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { managerv1, topo } from "@kne/proto";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelLeftovers, workspaceRoot } from "./helpers.ts";

const managerBin = join(workspaceRoot, "apps/topology-manager/bin/topology-manager.mjs");
const name = "watchring";

let stateDir: string;
let server: ServerProcess | undefined;
let topologies: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;
let links: ReturnType<typeof createClient<typeof managerv1.LinkService>>;
let nodes: ReturnType<typeof createClient<typeof managerv1.NodeService>>;

function ring(topology: string, n: number): topo.Topology {
  const names = Array.from({ length: n }, (_, i) => `h${i + 1}`);
  return {
    name: topology,
    nodes: names.map((node) => ({ name: node, vendor: topo.Vendor.HOST })),
    links: names.map((a, i) => ({ aNode: a, aInt: "eth1", zNode: names[(i + 1) % n]!, zInt: "eth2" })),
  } as unknown as topo.Topology;
}

/** Reads a watch in the background; `next(pred)` waits for the first event matching pred. */
function follow(stream: AsyncIterable<managerv1.WatchLinksResponse>) {
  const events: managerv1.WatchLinksResponse[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const e of stream) events.push(e);
    } catch (err) {
      error = err;
    }
  })();
  const until = async (pred: () => boolean, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${events.length} events${error ? `, error ${String(error)}` : ""}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { events, done, until, error: () => error };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "kne-watch-"));
  server = await startServerProcess(managerBin, ["--state-dir", stateDir, "--log-level", "info", "--max-nodes", "6", "--max-links", "6", "--max-message-bytes", "65536"], 60_000);
  const transport = createGrpcTransport({ baseUrl: server.url });
  topologies = createClient(managerv1.TopologyService, transport);
  links = createClient(managerv1.LinkService, transport);
  nodes = createClient(managerv1.NodeService, transport);
  await topologies.createTopology({ topology: ring(name, 3) }, { timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  if (server) {
    await topologies.deleteTopology({ name }, { timeoutMs: 120_000 }).catch(() => undefined);
    await server.stop("SIGTERM");
  }
  await rm(stateDir, { recursive: true, force: true });
  expect(kernelLeftovers(name)).toEqual({ namespaces: [], ports: [] });
}, 180_000);

describe("WatchLinks", () => {
  it("gives every watcher the current state, then each change once, with the same increasing revisions", async () => {
    const abort = new AbortController();
    const w1 = follow(links.watchLinks({ topology: name }, { signal: abort.signal }));
    const w2 = follow(links.watchLinks({ topology: name }, { signal: abort.signal }));
    await w1.until(() => w1.events.length >= 3, "the initial snapshot");
    await w2.until(() => w2.events.length >= 3, "the initial snapshot");
    expect(w1.events.slice(0, 3).every((e) => e.snapshot)).toBe(true);
    expect(new Set(w1.events.slice(0, 3).map((e) => e.link?.id)).size).toBe(3);
    const linkId = w1.events[0]!.link!.id;

    await links.setLinkState({ topology: name, link: linkId, state: topo.LinkState.DOWN });
    const isDown = (e: managerv1.WatchLinksResponse) => e.link?.id === linkId && e.link.a?.adminState === topo.LinkState.DOWN && !e.snapshot;
    await w1.until(() => w1.events.some(isDown), "the link down event");
    await w2.until(() => w2.events.some(isDown), "the link down event");
    const down1 = w1.events.find(isDown)!;
    const down2 = w2.events.find(isDown)!;
    expect(down2.revision).toBe(down1.revision);
    const revisions = w1.events.map((e) => e.revision);
    expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);

    // Resume after the snapshot: the history replays the flip, then the live stream follows.
    const resumeAfter = w1.events[2]!.revision;
    const resumed = follow(links.watchLinks({ topology: name, afterRevision: resumeAfter }, { signal: abort.signal }));
    await resumed.until(() => resumed.events.some(isDown), "the replayed down event");
    expect(resumed.events.find(isDown)!.revision).toBe(down1.revision);
    expect(resumed.events.every((e) => e.revision > resumeAfter)).toBe(true);

    await links.setLinkState({ topology: name, link: linkId, state: topo.LinkState.UP });
    const isUp = (e: managerv1.WatchLinksResponse) => e.link?.id === linkId && e.link.a?.adminState === topo.LinkState.UP && e.revision > down1.revision;
    for (const w of [w1, w2, resumed]) await w.until(() => w.events.some(isUp), "the link up event");
    abort.abort();
    await Promise.all([w1.done, w2.done, resumed.done]);
  });

  it("keeps serving a watcher while another one reads nothing", async () => {
    const abort = new AbortController();
    // Opened and never read: its events queue up in the server, not in front of the others.
    const stalled = links.watchLinks({ topology: name }, { signal: abort.signal })[Symbol.asyncIterator]();
    void stalled.next().catch(() => undefined);
    const reader = follow(links.watchLinks({ topology: name, link: "h1:eth1" }, { signal: abort.signal }));
    await reader.until(() => reader.events.length >= 1, "the snapshot");
    for (let i = 0; i < 10; i++) {
      const state = i % 2 === 0 ? topo.LinkState.DOWN : topo.LinkState.UP;
      const before = reader.events.length;
      await links.setLinkState({ topology: name, link: "h1:eth1", state });
      await reader.until(() => reader.events.slice(before).some((e) => e.link?.a?.adminState === state), `flip ${i}`);
    }
    // Only the link asked for.
    expect(new Set(reader.events.map((e) => e.link?.id))).toEqual(new Set(["h1:eth1--h2:eth2"]));
    abort.abort();
    await reader.done;
  });

  it("refuses a revision older than the history with OUT_OF_RANGE, and an unknown link with NOT_FOUND", async () => {
    const old = follow(links.watchLinks({ topology: name, afterRevision: 1n }));
    await old.done;
    expect(old.error()).toBeInstanceOf(ConnectError);
    expect((old.error() as ConnectError).code).toBe(Code.OutOfRange);
    expect((old.error() as ConnectError).rawMessage).toMatch(/after_revision 1 is older than this watch's history .* watch again from 0/);
    const unknown = follow(links.watchLinks({ topology: name, link: "h9:eth9" }));
    await unknown.done;
    expect((unknown.error() as ConnectError).code).toBe(Code.NotFound);
    const noTopology = follow(links.watchLinks({ topology: "nosuch" }));
    await noTopology.done;
    expect((noTopology.error() as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("WatchTopologies", () => {
  it("starts with the topology and its nodes as snapshots", async () => {
    const abort = new AbortController();
    const events: managerv1.TopologyEvent[] = [];
    const reading = (async () => {
      try {
        for await (const { event } of topologies.watchTopologies({ name }, { signal: abort.signal })) if (event) events.push(event);
      } catch {
        // aborted below
      }
    })();
    const deadline = Date.now() + 10_000;
    while (events.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events.every((e) => e.snapshot && e.topology === name)).toBe(true);
    expect(events.filter((e) => e.type === managerv1.TopologyEvent_Type.NODE_CHANGED).map((e) => e.node?.name).sort()).toEqual(["h1", "h2", "h3"]);
    abort.abort();
    await reading;
  });
});

describe("limits", () => {
  it("refuses a topology with more nodes or links than the manager allows, naming the limit and the count", async () => {
    const err = await topologies.createTopology({ topology: ring("toobig", 7) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe("topology toobig is too large: topology.nodes: 7 nodes exceed this manager's limit of 6 nodes per topology (max-nodes)");
    const links7 = ring("manylinks", 4);
    for (let i = 0; i < 3; i++) links7.links.push({ ...links7.links[i]!, aInt: `eth${10 + i}`, zInt: `eth${20 + i}` } as topo.Link);
    const err2 = await topologies.createTopology({ topology: links7, dryRun: true }).catch((e: unknown) => e);
    expect((err2 as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err2 as ConnectError).rawMessage).toMatch(/7 links exceed this manager's limit of 6 links per topology \(max-links\)/);
  });

  it("refuses a request larger than --max-message-bytes with RESOURCE_EXHAUSTED naming both sizes", async () => {
    const big = ring("bigmsg", 2);
    big.nodes[0]!.config = { configData: { case: "data", value: new Uint8Array(100_000) } } as topo.Config;
    const err = await topologies.createTopology({ topology: big, dryRun: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(/100\d{3}.*65536|65536.*100\d{3}/);
  });
});

/** Pids of processes whose command line is exactly argv (a unique sleep length marks ours). */
function processesRunning(argv: string[]): number[] {
  const want = argv.join("\0") + "\0";
  const out: number[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8") === want) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function waitGone(argv: string[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (processesRunning(argv).length > 0) {
    if (Date.now() - started > timeoutMs) throw new Error(`${argv.join(" ")} still runs after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

describe("deadlines and cancellation reach the backend's work", () => {
  it("kills a node command when the call's deadline passes", async () => {
    const argv = ["sleep", "41.25"];
    const started = Date.now();
    const err = await nodes.execCommand({ topology: name, node: "h1", command: argv }, { timeoutMs: 1500 }).catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(5000);
    // Not merely abandoned: the command itself is gone soon after the deadline.
    expect(await waitGone(argv, 3000)).toBeLessThan(3000);
  });

  it("kills a node command when the caller cancels", async () => {
    const argv = ["sleep", "42.75"];
    const abort = new AbortController();
    const call = nodes.execCommand({ topology: name, node: "h2", command: argv }, { signal: abort.signal }).catch((e: unknown) => e);
    const deadline = Date.now() + 5000;
    while (processesRunning(argv).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(processesRunning(argv)).toHaveLength(1);
    abort.abort();
    expect(((await call) as ConnectError).code).toBe(Code.Canceled);
    expect(await waitGone(argv, 3000)).toBeLessThan(3000);
  });
});
