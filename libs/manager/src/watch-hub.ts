/**
 * The watch hub: every watch of the manager's API goes through it, so that
 *
 * - watchers of the same stream (all of one topology's links, one topology's events) share
 *   one backend subscription, however many they are;
 * - each event gets a revision, increasing across all streams of the process (and above
 *   those of an earlier process: the first revision is taken from the clock), so a client
 *   resumes after the last revision it saw;
 * - a bounded history per stream answers resumes, and a revision older than the history is
 *   refused (OUT_OF_RANGE) instead of silently skipping events;
 * - each watcher has a bounded queue: publishing never waits for a watcher. A watcher that
 *   falls behind first has its queue merged (the latest event per object, marked as a
 *   snapshot); if that is still too much, it is ended with RESOURCE_EXHAUSTED naming the
 *   revision to resume after. The others never notice.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** One event as a watcher receives it. */
export interface HubEvent<T> {
  revision: bigint;
  value: T;
  /** When the hub published it (ms since the epoch). */
  publishedAt: number;
  /**
   * The first report of its object on the stream (its state when the stream or the object
   * appeared, or replayed to a watch starting from 0), or several changes merged into one
   * because the watcher fell behind: not one change from a state the watcher knew.
   */
  snapshot: boolean;
}

/** Where a stream's events come from, and how they map to the objects they describe. */
export interface StreamSource<T> {
  /** The backend subscription; ended by the signal when the stream has no watchers left. */
  subscribe(signal: AbortSignal): AsyncIterable<T>;
  /** The object an event describes: the current state keeps the latest event per object. */
  objectKey(value: T): string;
  /** Whether the event removes its object, and every object whose key starts with `${key}/`. */
  removes?(value: T): boolean;
  /**
   * Whether two events of one object report the same state: the later one is not published.
   * Needed when the same change arrives twice (published by the service that made it, then
   * seen again by the backend's subscription).
   */
  sameState?(a: T, b: T): boolean;
}

export interface WatchHubOptions {
  /** Events kept per stream for resumes (default 10,000). */
  historySize?: number;
  /** Events a watcher may have waiting before it is merged or ended (default 1,000). */
  queueSize?: number;
  /** How long a stream without watchers stays subscribed, so its history serves a quick resume (default 30 s). */
  lingerMs?: number;
  /** The first revision is above this one (default: the clock in microseconds). */
  startRevision?: bigint;
}

export interface WatchOptions<T> {
  /** 0 (or undefined): the current state first; otherwise the events after this revision. */
  afterRevision?: bigint;
  /** Only events this watcher wants (a link of the topology). */
  filter?: (value: T) => boolean;
  signal: AbortSignal;
}

export interface WatchHubStats {
  streams: number;
  watchers: number;
  /** Watchers whose queue was merged since the hub started. */
  coalesced: number;
  /** Watchers ended for falling too far behind since the hub started. */
  overflowed: number;
}

interface Watcher<T> {
  queue: Array<HubEvent<T>>;
  /** The queue's bound: the queue size beyond the backlog the watch started with (a big topology's snapshot is not an overflow). */
  limit: number;
  filter: ((value: T) => boolean) | undefined;
  /** The last revision handed to the consumer: where it resumes after an overflow. */
  delivered: bigint;
  wake: (() => void) | undefined;
  end: { error?: unknown } | undefined;
}

const defaults = { historySize: 10_000, queueSize: 1_000, lingerMs: 30_000 };

class HubStream<T> {
  readonly watchers = new Set<Watcher<T>>();
  /** Events in revision order; every event after `floor` is here. */
  private history: Array<HubEvent<T>> = [];
  private historyStart = 0;
  /** Revisions up to this one are no longer in the history. */
  floor: bigint;
  /** The latest event per object: what a watch from 0 starts with. */
  readonly current = new Map<string, HubEvent<T>>();
  private readonly abort = new AbortController();
  private lingerTimer: NodeJS.Timeout | undefined;
  ended = false;

  constructor(
    readonly key: string,
    private readonly source: StreamSource<T>,
    private readonly hub: WatchHub,
    private readonly options: Required<Omit<WatchHubOptions, "startRevision">>,
  ) {
    this.floor = hub.latestRevision;
  }

  start(): void {
    void (async () => {
      try {
        for await (const value of this.source.subscribe(this.abort.signal)) {
          if (this.abort.signal.aborted) break;
          this.publish(value);
        }
        this.finish(undefined);
      } catch (err) {
        this.finish(this.abort.signal.aborted ? undefined : err);
      }
    })();
  }

  publish(value: T): void {
    const key = this.source.objectKey(value);
    const removes = this.source.removes?.(value) === true;
    const before = this.current.get(key);
    if (!removes && before && this.source.sameState?.(before.value, value)) return;
    const event: HubEvent<T> = { revision: this.hub.nextRevision(), value, publishedAt: Date.now(), snapshot: !removes && !this.current.has(key) };
    if (removes) {
      for (const k of [...this.current.keys()]) if (k === key || k.startsWith(`${key}/`)) this.current.delete(k);
    } else {
      this.current.set(key, event);
    }
    this.history.push(event);
    if (this.history.length - this.historyStart > this.options.historySize) {
      this.floor = this.history[this.historyStart]!.revision;
      this.historyStart++;
      // Compact now and then rather than shifting on every event.
      if (this.historyStart >= this.options.historySize) {
        this.history = this.history.slice(this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const w of this.watchers) this.offer(w, event);
  }

  /** Queues an event for one watcher without ever waiting for it. */
  offer(w: Watcher<T>, event: HubEvent<T>): void {
    if (w.end || (w.filter && !w.filter(event.value))) return;
    if (w.queue.length >= w.limit) {
      this.hub.stats.coalesced++;
      w.queue = this.coalesce(w.queue);
      if (w.queue.length >= w.limit) {
        this.hub.stats.overflowed++;
        // Dropped, so that the revision named below is the last one the consumer got.
        w.queue = [];
        this.endWatcher(
          w,
          new ConnectError(
            `the watch fell behind: more than ${w.limit} changed objects waited for it (watch queue limit ${this.options.queueSize} beyond its start). ` +
              `Resume with after_revision=${w.delivered}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
    }
    w.queue.push(event);
    w.wake?.();
  }

  /** The latest event per object, in revision order; merged events are marked as snapshots. */
  private coalesce(queue: ReadonlyArray<HubEvent<T>>): Array<HubEvent<T>> {
    const latest = new Map<string, { event: HubEvent<T>; merged: boolean }>();
    for (const e of queue) {
      const key = this.source.objectKey(e.value);
      const before = latest.get(key);
      latest.set(key, { event: e, merged: before !== undefined || e.snapshot });
    }
    return [...latest.values()].sort((a, b) => (a.event.revision < b.event.revision ? -1 : 1)).map(({ event, merged }) => (merged ? { ...event, snapshot: true } : event));
  }

  /** The events a new watcher starts with: the current state, or what followed its revision. */
  backlog(after: bigint): Array<HubEvent<T>> {
    if (after <= 0n) {
      return [...this.current.values()].sort((a, b) => (a.revision < b.revision ? -1 : 1)).map((e) => ({ ...e, snapshot: true }));
    }
    if (after > this.hub.latestRevision) {
      throw new ConnectError(
        `after_revision ${after} is ahead of this manager's latest revision ${this.hub.latestRevision} (a revision from another manager?); watch again from 0`,
        Code.OutOfRange,
      );
    }
    if (after < this.floor) {
      throw new ConnectError(
        `after_revision ${after} is older than this watch's history (it starts after revision ${this.floor}): changes since then are gone; watch again from 0 for the current state`,
        Code.OutOfRange,
      );
    }
    const out: Array<HubEvent<T>> = [];
    for (let i = this.history.length - 1; i >= this.historyStart && this.history[i]!.revision > after; i--) out.push(this.history[i]!);
    return out.reverse();
  }

  add(w: Watcher<T>): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.watchers.add(w);
  }

  remove(w: Watcher<T>): void {
    this.watchers.delete(w);
    if (this.watchers.size > 0 || this.ended) return;
    this.lingerTimer = setTimeout(() => this.close(), this.options.lingerMs);
    this.lingerTimer.unref();
  }

  endWatcher(w: Watcher<T>, error: unknown): void {
    w.end = error === undefined ? {} : { error };
    w.wake?.();
  }

  private finish(error: unknown): void {
    this.ended = true;
    this.hub.forget(this);
    for (const w of this.watchers) this.endWatcher(w, error);
  }

  close(): void {
    clearTimeout(this.lingerTimer);
    this.abort.abort();
    this.hub.forget(this);
    this.ended = true;
    for (const w of this.watchers) this.endWatcher(w, undefined);
  }
}

export class WatchHub {
  private readonly options: Required<Omit<WatchHubOptions, "startRevision">>;
  private readonly streams = new Map<string, HubStream<unknown>>();
  private revision: bigint;
  readonly stats = { coalesced: 0, overflowed: 0 };

  constructor(options: WatchHubOptions = {}) {
    this.options = {
      historySize: options.historySize ?? defaults.historySize,
      queueSize: options.queueSize ?? defaults.queueSize,
      lingerMs: options.lingerMs ?? defaults.lingerMs,
    };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isInteger(value) || value < (name === "lingerMs" ? 0 : 1)) throw new RangeError(`watch hub: ${name} must be a positive integer, got ${value}`);
    }
    // Above any revision an earlier process handed out (unless the clock went back), so a
    // client resuming across a restart is told its revision is too old rather than from the future.
    this.revision = options.startRevision ?? BigInt(Date.now()) * 1000n;
  }

  get latestRevision(): bigint {
    return this.revision;
  }

  nextRevision(): bigint {
    return ++this.revision;
  }

  /**
   * Follows the stream `key` (subscribing to `source` if nobody does yet). Throws
   * OUT_OF_RANGE when `afterRevision` is outside the stream's history; ends with
   * RESOURCE_EXHAUSTED when the consumer falls too far behind; returns when the source ends.
   */
  async *watch<T>(key: string, source: StreamSource<T>, options: WatchOptions<T>): AsyncGenerator<HubEvent<T>> {
    let stream = this.streams.get(key) as HubStream<T> | undefined;
    const fresh = stream === undefined;
    if (!stream) {
      stream = new HubStream<T>(key, source, this, this.options);
      this.streams.set(key, stream as HubStream<unknown>);
    }
    let backlog: Array<HubEvent<T>>;
    try {
      backlog = stream.backlog(options.afterRevision ?? 0n);
    } catch (err) {
      if (fresh) stream.close();
      throw err;
    }
    // Backlog and registration in one step: no event can fall between them.
    const queue = options.filter ? backlog.filter((e) => options.filter!(e.value)) : backlog;
    const watcher: Watcher<T> = {
      queue,
      limit: this.options.queueSize + queue.length,
      filter: options.filter,
      delivered: options.afterRevision ?? 0n,
      wake: undefined,
      end: undefined,
    };
    stream.add(watcher);
    if (fresh) stream.start();
    const onAbort = (): void => watcher.wake?.();
    options.signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        const next = watcher.queue.shift();
        if (next) {
          watcher.delivered = next.revision;
          yield next;
          continue;
        }
        if (options.signal.aborted) return;
        if (watcher.end) {
          if (watcher.end.error !== undefined) throw watcher.end.error;
          return;
        }
        await new Promise<void>((resolve) => (watcher.wake = resolve));
        watcher.wake = undefined;
      }
    } finally {
      options.signal.removeEventListener("abort", onAbort);
      stream.remove(watcher);
    }
  }

  /**
   * Publishes a change its maker already knows (a link it just set) to the stream `key`, if
   * anyone watches it: watchers see it without waiting for the backend to notice. The
   * backend's own report of the same state is then dropped (`sameState`).
   */
  publish<T>(key: string, value: T): void {
    const stream = this.streams.get(key) as HubStream<T> | undefined;
    if (stream && !stream.ended) stream.publish(value);
  }

  current(): WatchHubStats {
    let watchers = 0;
    for (const s of this.streams.values()) watchers += s.watchers.size;
    return { streams: this.streams.size, watchers, ...this.stats };
  }

  /** Ends every stream and its watchers (the server is stopping). */
  close(): void {
    for (const s of [...this.streams.values()]) s.close();
  }

  /** @internal A stream that ended or closed. */
  forget(stream: { readonly key: string }): void {
    if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
  }
}
