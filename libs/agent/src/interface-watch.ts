/**
 * WatchInterfaces: a snapshot of every local endpoint of a topology, then each change as the
 * kernel reports it (`ip -o monitor link` per namespace, through the data plane's
 * `watchLinks`), and counters at an interval when asked. Follows the topology as it is
 * re-applied (namespaces come and go) and ends when it is deleted or the client goes away.
 *
 * The kernel announces an admin change at once, but a carrier change of the far end of a
 * veth only when its linkwatch work runs, which is rate-limited to once a second. The flag
 * itself is immediate, so a change on one endpoint makes the watch read the other endpoints
 * of the same wire right away: a link set down is seen down at the far end within
 * milliseconds, not up to a second later.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type LinkEvent, type LinkWatch, type ObservedInterface, mapLimit, readInterfaces as readNamespaceInterfaces, watchLinks as watchNamespaceLinks } from "@kne/dataplane";
import { agentv1 } from "@kne/proto";
import type { Logger } from "@kne/telemetry";
import type { LocalEndpointInfo } from "./desired-wires.ts";

/** What a watch needs from the agent about its topology. */
export interface WatchSource {
  /** The local endpoints now; undefined once the topology is gone. */
  endpoints(): ReadonlyMap<string, LocalEndpointInfo> | undefined;
  /** Called when the topology's desired state changed or it was deleted; returns an unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export interface WatchOptions {
  topology: string;
  countersIntervalMs: number;
  signal: AbortSignal;
  now: () => number;
  logger: Logger;
  /** Injected for tests; default: the data plane's. */
  readInterfaces?: (netns: string) => Promise<ObservedInterface[]>;
  watchLinks?: (netns: string, onEvent: (e: LinkEvent) => void) => LinkWatch;
}

/** A state as the kernel shows it, absent interfaces as NOTPRESENT. */
export function interfaceState(topology: string, ep: LocalEndpointInfo, o: ObservedInterface | undefined): agentv1.InterfaceState {
  return create(agentv1.InterfaceStateSchema, {
    topology,
    node: ep.node,
    interface: ep.interface,
    adminUp: o?.adminUp ?? false,
    carrier: o?.carrier ?? false,
    operState: o ? o.operState : "NOTPRESENT",
    rxPackets: BigInt(o?.counters.rxPackets ?? 0),
    txPackets: BigInt(o?.counters.txPackets ?? 0),
    rxBytes: BigInt(o?.counters.rxBytes ?? 0),
    txBytes: BigInt(o?.counters.txBytes ?? 0),
    rxDropped: BigInt(o?.counters.rxDropped ?? 0),
    txDropped: BigInt(o?.counters.txDropped ?? 0),
    mtu: o?.mtu ?? 0,
    mac: o?.mac ?? "",
  });
}

function stateKey(s: agentv1.InterfaceState): string {
  return `${s.adminUp}|${s.carrier}|${s.operState}`;
}

function countersKey(s: agentv1.InterfaceState): string {
  return `${s.rxPackets}|${s.txPackets}|${s.rxBytes}|${s.txBytes}|${s.rxDropped}|${s.txDropped}|${s.mtu}|${s.mac}`;
}

/** A push/pull queue between callbacks and the response stream. */
class Channel<T> {
  private readonly items: T[] = [];
  private waiting?: () => void;
  private done = false;

  push(item: T): void {
    if (this.done) return;
    this.items.push(item);
    this.wake();
  }

  close(): void {
    this.done = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift()!;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}

/** The response stream of one WatchInterfaces call. */
export async function* watchInterfaces(source: WatchSource, options: WatchOptions): AsyncGenerator<agentv1.WatchInterfacesResponse> {
  const { topology, signal, logger } = options;
  const read = options.readInterfaces ?? ((netns: string) => readNamespaceInterfaces(netns));
  const watch = options.watchLinks ?? watchNamespaceLinks;
  const channel = new Channel<agentv1.WatchInterfacesResponse>();
  const last = new Map<string, agentv1.InterfaceState>();
  const monitors = new Map<string, LinkWatch>();
  /** netns → ifname → endpoint key */
  let byNetns = new Map<string, Map<string, string>>();
  let endpoints: ReadonlyMap<string, LocalEndpointInfo> = new Map();
  let snapshotDone = false;
  const dirtyDuringSnapshot = new Set<string>();
  let closed = false;

  const emit = (key: string, s: agentv1.InterfaceState, withCounters: boolean): void => {
    const prev = last.get(key);
    const changed = !prev || stateKey(prev) !== stateKey(s) || (withCounters && countersKey(prev) !== countersKey(s));
    last.set(key, s);
    if (changed) channel.push(create(agentv1.WatchInterfacesResponseSchema, { state: s, time: timestampFromMs(options.now()) }));
  };

  const readNamespace = async (netns: string, withCounters: boolean): Promise<void> => {
    const names = byNetns.get(netns);
    if (!names) return;
    let observed: ObservedInterface[] = [];
    try {
      observed = await read(netns);
    } catch (err) {
      logger.debug({ topology, netns, err }, "interfaces not read");
    }
    if (closed) return;
    const byName = new Map(observed.map((o) => [o.ifname, o]));
    for (const [ifname, key] of names) {
      const ep = endpoints.get(key);
      if (ep) emit(key, interfaceState(topology, ep, byName.get(ifname)), withCounters);
    }
  };

  // Reads of a namespace triggered by events: one at a time, one more if asked meanwhile.
  const refreshing = new Map<string, boolean>();
  const refresh = (netns: string): void => {
    if (refreshing.has(netns)) {
      refreshing.set(netns, true);
      return;
    }
    refreshing.set(netns, false);
    void (async () => {
      do {
        refreshing.set(netns, false);
        await readNamespace(netns, false);
      } while (refreshing.get(netns) === true && !closed);
      refreshing.delete(netns);
    })();
  };

  const onEvent = (e: LinkEvent): void => {
    const key = byNetns.get(e.netns)?.get(e.ifname);
    if (!key || closed) return;
    if (!snapshotDone) {
      dirtyDuringSnapshot.add(e.netns);
      return;
    }
    const prev = last.get(key);
    const ep = endpoints.get(key);
    if (!ep) return;
    const next = create(agentv1.InterfaceStateSchema, {
      ...(prev ?? interfaceState(topology, ep, undefined)),
      adminUp: e.deleted ? false : e.adminUp,
      carrier: e.deleted ? false : e.carrier,
      operState: e.deleted ? "NOTPRESENT" : e.operState,
    });
    const changed = !prev || prev.adminUp !== next.adminUp || prev.carrier !== next.carrier;
    emit(key, next, false);
    if (!changed) return;
    for (const other of endpoints.values()) {
      if (other.wireUid === ep.wireUid && (other.netns !== ep.netns || other.ifname !== ep.ifname)) refresh(other.netns);
    }
  };

  /** Brings monitors in line with the topology's endpoints; returns namespaces that are new. */
  const follow = async (): Promise<string[] | undefined> => {
    const now = source.endpoints();
    if (!now) return undefined;
    endpoints = now;
    const next = new Map<string, Map<string, string>>();
    for (const [key, ep] of now) {
      let m = next.get(ep.netns);
      if (!m) next.set(ep.netns, (m = new Map()));
      m.set(ep.ifname, key);
    }
    byNetns = next;
    for (const key of [...last.keys()]) if (!now.has(key)) last.delete(key);
    const gone = [...monitors.keys()].filter((n) => !next.has(n));
    await Promise.all(
      gone.map(async (n) => {
        const m = monitors.get(n)!;
        monitors.delete(n);
        await m.close();
      }),
    );
    const added = [...next.keys()].filter((n) => !monitors.has(n));
    for (const n of added) monitors.set(n, watch(n, onEvent));
    await Promise.all(added.map((n) => monitors.get(n)!.ready.catch((err: unknown) => logger.debug({ topology, netns: n, err }, "link monitor did not start"))));
    return added;
  };

  let following = Promise.resolve();
  const unsubscribe = source.subscribe(() => {
    following = following.then(async () => {
      if (closed) return;
      const added = await follow();
      if (added === undefined) {
        channel.close();
        return;
      }
      // A re-applied topology may have recreated devices anywhere: read every namespace.
      await mapLimit([...byNetns.keys()], 8, (n) => readNamespace(n, true));
    });
  });
  const onAbort = (): void => channel.close();
  signal.addEventListener("abort", onAbort, { once: true });
  let countersTimer: NodeJS.Timeout | undefined;
  try {
    if ((await follow()) === undefined) return;
    await mapLimit([...byNetns.keys()], 8, (n) => readNamespace(n, true));
    snapshotDone = true;
    // Changes seen while the snapshot was read: read those namespaces again rather than
    // replaying events that may be older than the snapshot.
    await mapLimit([...dirtyDuringSnapshot], 8, (n) => readNamespace(n, false));
    if (options.countersIntervalMs > 0) {
      const interval = Math.max(options.countersIntervalMs, 100);
      let polling = false;
      countersTimer = setInterval(() => {
        if (polling) return;
        polling = true;
        void mapLimit([...byNetns.keys()], 8, (n) => readNamespace(n, true)).finally(() => (polling = false));
      }, interval);
    }
    if (signal.aborted) return;
    yield* channel.drain();
  } finally {
    closed = true;
    channel.close();
    if (countersTimer) clearInterval(countersTimer);
    signal.removeEventListener("abort", onAbort);
    unsubscribe();
    await following.catch(() => undefined);
    await Promise.all([...monitors.values()].map((m) => m.close()));
    monitors.clear();
  }
}
