/**
 * The agent's desired state on disk, one topology per file, written before the kernel is
 * touched so that a restart (even after kill -9) converges to what was last accepted.
 *
 * - `<topology>.json`: a snapshot (the ApplyWires request in proto JSON, tunnels prepared for
 *   peers, learned peer underlays, namespaces still to retire, and folded overrides). Written
 *   to a temporary file, fsynced, renamed over the old one: a reader sees the old or the new
 *   snapshot, never a mix.
 * - `<topology>.journal`: SetLinkState / SetImpairments overrides appended since the snapshot,
 *   one JSON line per change, each one `write()` on the file kept open. Rewriting the snapshot on every link flip
 *   would cost a rename (which makes ext4 flush the new file) on the hot path; an append is
 *   tens of microseconds. A torn last line (power loss) is ignored; entries of an older
 *   generation (a snapshot replaced before the journal was removed) are skipped. Appends are
 *   not fsynced: a killed process loses nothing (the page cache keeps the write); after a
 *   power loss every namespace is gone too, and the last acknowledged flips may be lost.
 * - A snapshot with `deleting: true` is a tombstone: DeleteTopology was accepted; a restart
 *   finishes the removal.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { open, readFile, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { agentv1 } from "@kne/proto";
import type { EndpointOverride, PreparedTunnel } from "./desired-wires.ts";

/** What the agent keeps for one topology. */
export interface TopologyRecord {
  topology: string;
  generation: bigint;
  request: agentv1.ApplyWiresRequest;
  tunnels: PreparedTunnel[];
  /** Remote underlay addresses learned from peers, by wire uid. */
  learnedUnderlay: Record<string, string>;
  /** Namespaces of ours that left the desired state and are not deleted yet ("listed" scope). */
  retiredNamespaces: string[];
  overrides: Map<string, EndpointOverride>;
  /** DeleteTopology was accepted and is not finished. */
  deleting: boolean;
}

interface SnapshotFile {
  version: 1;
  topology: string;
  generation: string;
  request: JsonValue;
  tunnels: PreparedTunnel[];
  learnedUnderlay: Record<string, string>;
  retiredNamespaces: string[];
  overrides: Record<string, EndpointOverride>;
  deleting?: boolean;
}

interface JournalEntry {
  generation: string;
  key: string;
  override: EndpointOverride;
}

export function emptyRecord(topology: string): TopologyRecord {
  return {
    topology,
    generation: 0n,
    request: fromJson(agentv1.ApplyWiresRequestSchema, { topology }),
    tunnels: [],
    learnedUnderlay: {},
    retiredNamespaces: [],
    overrides: new Map(),
    deleting: false,
  };
}

export interface StateStoreOptions {
  /** fsync snapshots before renaming them (default true). */
  fsync?: boolean;
  /** Fold the journal into the snapshot after this many entries (default 512). */
  compactAfter?: number;
}

export class StateStore {
  private readonly dir: string;
  private readonly fsync: boolean;
  private readonly compactAfter: number;
  private readonly journalSizes = new Map<string, number>();
  /** Open journal files (append mode), so that an append is one write(), not open+write+close. */
  private readonly journalFds = new Map<string, number>();
  private tmpCounter = 0;

  constructor(stateDir: string, options: StateStoreOptions = {}) {
    this.dir = join(stateDir, "topologies");
    this.fsync = options.fsync ?? true;
    this.compactAfter = options.compactAfter ?? 512;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private snapshotPath(topology: string): string {
    return join(this.dir, `${topology}.json`);
  }

  private journalPath(topology: string): string {
    return join(this.dir, `${topology}.journal`);
  }

  /** Every record on disk, journals applied; leftovers of interrupted writes are removed. */
  async loadAll(): Promise<TopologyRecord[]> {
    const names = await readdir(this.dir);
    for (const n of names) if (n.endsWith(".tmp")) await rm(join(this.dir, n), { force: true });
    const records: TopologyRecord[] = [];
    for (const n of names.filter((x) => x.endsWith(".json")).sort()) {
      const file = JSON.parse(await readFile(join(this.dir, n), "utf8")) as SnapshotFile;
      if (file.version !== 1) throw new Error(`${join(this.dir, n)}: unknown state version ${String(file.version)}`);
      const record: TopologyRecord = {
        topology: file.topology,
        generation: BigInt(file.generation),
        request: fromJson(agentv1.ApplyWiresRequestSchema, file.request),
        tunnels: file.tunnels ?? [],
        learnedUnderlay: file.learnedUnderlay ?? {},
        retiredNamespaces: file.retiredNamespaces ?? [],
        overrides: new Map(Object.entries(file.overrides ?? {})),
        deleting: file.deleting === true,
      };
      this.journalSizes.set(record.topology, await this.replayJournal(record));
      records.push(record);
    }
    return records;
  }

  private async replayJournal(record: TopologyRecord): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.journalPath(record.topology), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw err;
    }
    let count = 0;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // a torn last line
      }
      if (entry.generation !== record.generation.toString()) continue;
      applyOverride(record.overrides, entry.key, entry.override);
      count++;
    }
    return count;
  }

  /** Writes the record's snapshot atomically and drops its journal (now folded in). */
  async save(record: TopologyRecord): Promise<void> {
    const file: SnapshotFile = {
      version: 1,
      topology: record.topology,
      generation: record.generation.toString(),
      request: toJson(agentv1.ApplyWiresRequestSchema, record.request),
      tunnels: record.tunnels,
      learnedUnderlay: record.learnedUnderlay,
      retiredNamespaces: record.retiredNamespaces,
      overrides: Object.fromEntries(record.overrides),
      ...(record.deleting ? { deleting: true } : {}),
    };
    const target = this.snapshotPath(record.topology);
    const tmp = `${target}.${process.pid}.${this.tmpCounter++}.tmp`;
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(JSON.stringify(file));
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    this.closeJournal(record.topology);
    await rm(this.journalPath(record.topology), { force: true });
    this.journalSizes.set(record.topology, 0);
  }

  /**
   * Records an override (after applying it to `record`) with one synchronous append. Returns
   * true when the journal has grown enough that the caller should `save` (compact) soon.
   */
  appendOverride(record: TopologyRecord, key: string, override: EndpointOverride): boolean {
    const entry: JournalEntry = { generation: record.generation.toString(), key, override };
    let fd = this.journalFds.get(record.topology);
    if (fd === undefined) {
      fd = openSync(this.journalPath(record.topology), "a", 0o600);
      this.journalFds.set(record.topology, fd);
    }
    writeSync(fd, JSON.stringify(entry) + "\n");
    applyOverride(record.overrides, key, override);
    const size = (this.journalSizes.get(record.topology) ?? 0) + 1;
    this.journalSizes.set(record.topology, size);
    return size >= this.compactAfter;
  }

  private closeJournal(topology: string): void {
    const fd = this.journalFds.get(topology);
    if (fd === undefined) return;
    this.journalFds.delete(topology);
    closeSync(fd);
  }

  /** Closes the open journal files (the agent is stopping). */
  close(): void {
    for (const topology of [...this.journalFds.keys()]) this.closeJournal(topology);
  }

  async remove(topology: string): Promise<void> {
    this.closeJournal(topology);
    await rm(this.journalPath(topology), { force: true });
    await rm(this.snapshotPath(topology), { force: true });
    this.journalSizes.delete(topology);
  }
}

/** Merges an override into the map: later fields win, others stay. */
export function applyOverride(overrides: Map<string, EndpointOverride>, key: string, override: EndpointOverride): void {
  overrides.set(key, { ...overrides.get(key), ...override });
}
