/**
 * A watch-based cache of one resource type (client-go's informer, reduced): list once, then
 * watch from that resource version, resuming after each server timeout and listing again
 * only when the version has expired (410). Handlers see every add, update and delete, so
 * reconcilers react to events and never poll.
 */
import { isGone, isRetriable } from "./kube-errors.ts";
import type { KubeClient, WatchEvent } from "./kube-client.ts";
import { systemClock, type Clock } from "./rate-limiter.ts";
import { type KubeObject, type ResourceType, objectKey } from "./resource-types.ts";

export type InformerEventType = "added" | "updated" | "deleted";
export type InformerHandler<T> = (type: InformerEventType, obj: T) => void;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly abort = new AbortController();
  private resourceVersion = "";
  private syncedResolve!: () => void;
  private syncedReject!: (err: unknown) => void;
  /** Resolves after the first list has filled the cache. */
  readonly synced: Promise<void>;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {
    this.synced = new Promise((resolve, reject) => {
      this.syncedResolve = resolve;
      this.syncedReject = reject;
    });
  }

  onEvent(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(filter?: (obj: T) => boolean): T[] {
    const out = [...this.cache.values()];
    return filter ? out.filter(filter) : out;
  }

  get size(): number {
    return this.cache.size;
  }

  /** Starts listing and watching; resolves once synced (rejects if the first list fails). */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.synced;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  private emit(type: InformerEventType, obj: T): void {
    for (const h of this.handlers) h(type, obj);
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.list<T>(this.type, { namespace: this.options.namespace, labelSelector: this.options.labelSelector });
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const before = this.cache.get(key);
      this.cache.set(key, item);
      if (!before) this.emit("added", item);
      else if (before.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit("updated", item);
    }
    for (const [key, obj] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit("deleted", obj);
      }
    }
    this.resourceVersion = resourceVersion;
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === "BOOKMARK") {
      this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
      return;
    }
    const obj = event.object;
    const key = objectKey(obj);
    this.resourceVersion = obj.metadata.resourceVersion ?? this.resourceVersion;
    if (event.type === "DELETED") {
      this.cache.delete(key);
      this.emit("deleted", obj);
    } else {
      const had = this.cache.has(key);
      this.cache.set(key, obj);
      this.emit(had ? "updated" : "added", obj);
    }
  }

  private async run(): Promise<void> {
    const clock = this.options.clock ?? systemClock;
    const signal = this.abort.signal;
    // A CRD just installed answers 429 until its storage is ready: retry the first list a while.
    const firstDeadline = clock.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.relist();
        this.syncedResolve();
        break;
      } catch (err) {
        if (signal.aborted || !isRetriable(err) || clock.now() > firstDeadline) {
          this.syncedReject(err);
          return;
        }
        await clock.sleep(Math.min(2000, 50 * 2 ** attempt));
      }
    }
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.client.watch<T>(this.type, { namespace: this.options.namespace, labelSelector: this.options.labelSelector, resourceVersion: this.resourceVersion }, (e) => this.apply(e), signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        try {
          if (!isGone(err)) {
            this.options.onError?.(err);
            failures++;
            await clock.sleep(Math.min(10_000, 100 * 2 ** Math.min(failures, 7)));
          }
          // The version we had is gone (or the connection broke): list again to catch up.
          if (!signal.aborted) await this.relist();
        } catch (again) {
          this.options.onError?.(again);
        }
      }
    }
  }
}
