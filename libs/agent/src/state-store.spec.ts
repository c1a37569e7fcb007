import { appendFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { agentv1 } from "@kne/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStore, emptyRecord } from "./state-store.ts";

describe("StateStore", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kne-agent-store-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function record(generation: bigint) {
    return {
      ...emptyRecord("t1"),
      generation,
      request: create(agentv1.ApplyWiresRequestSchema, { topology: "t1", generation, wires: [{ uid: 1n, a: { node: "r1", interface: "eth1" }, peer: { case: "z", value: { node: "r2", interface: "eth1" } } }] }),
      tunnels: [{ uid: "9", node: "r1", interface: "eth9", remoteUnderlay: "198.18.0.2", vni: 9 }],
    };
  }

  it("round-trips a snapshot and replays the journal on top of it", async () => {
    const store = new StateStore(dir, { fsync: false });
    const r = record(3n);
    await store.save(r);
    store.appendOverride(r, "r1/eth1", { adminUp: false });
    store.appendOverride(r, "r1/eth1", { impairments: { lossPercent: 20 } });
    store.appendOverride(r, "r2/eth1", { adminUp: false });
    store.appendOverride(r, "r2/eth1", { adminUp: true });
    const [loaded] = await new StateStore(dir).loadAll();
    expect(loaded!.generation).toBe(3n);
    expect(loaded!.request.wires[0]!.peer).toMatchObject({ case: "z", value: { node: "r2" } });
    expect(loaded!.tunnels).toEqual(r.tunnels);
    expect(Object.fromEntries(loaded!.overrides)).toEqual({ "r1/eth1": { adminUp: false, impairments: { lossPercent: 20 } }, "r2/eth1": { adminUp: true } });
  });

  it("ignores a torn last journal line and entries of an older generation", async () => {
    const store = new StateStore(dir, { fsync: false });
    const old = record(1n);
    await store.save(old);
    store.appendOverride(old, "r1/eth1", { adminUp: false });
    // A newer snapshot replaced the old one, but the process died before the journal went.
    writeFileSync(join(dir, "topologies", "t1.json"), readFileSync(join(dir, "topologies", "t1.json"), "utf8").replace('"generation":"1"', '"generation":"2"'));
    appendFileSync(join(dir, "topologies", "t1.journal"), '{"generation":"2","key":"r2/eth1","override":{"adminUp":false}}\n{"generation":"2","key":"r2/e');
    const [loaded] = await new StateStore(dir).loadAll();
    expect(Object.fromEntries(loaded!.overrides)).toEqual({ "r2/eth1": { adminUp: false } });
  });

  it("folds the journal into the snapshot when asked to compact, and removes leftovers", async () => {
    const store = new StateStore(dir, { fsync: false, compactAfter: 2 });
    const r = record(1n);
    await store.save(r);
    expect(store.appendOverride(r, "r1/eth1", { adminUp: false })).toBe(false);
    expect(store.appendOverride(r, "r1/eth1", { adminUp: true })).toBe(true);
    await store.save(r);
    writeFileSync(join(dir, "topologies", "t1.json.123.0.tmp"), "{");
    expect(readdirSync(join(dir, "topologies")).sort()).toEqual(["t1.json", "t1.json.123.0.tmp"]);
    const [loaded] = await new StateStore(dir).loadAll();
    expect(Object.fromEntries(loaded!.overrides)).toEqual({ "r1/eth1": { adminUp: true } });
    expect(readdirSync(join(dir, "topologies"))).toEqual(["t1.json"]);
    await store.remove("t1");
    expect(await new StateStore(dir).loadAll()).toEqual([]);
  });
});
