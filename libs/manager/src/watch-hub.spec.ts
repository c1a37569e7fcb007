import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type HubEvent, type StreamSource, WatchHub } from "./watch-hub.ts";

interface Change {
  id: string;
  state: string;
  deleted?: boolean;
}

/** A backend subscription the test feeds by hand, counting subscriptions and their ends. */
function feed() {
  const pending: Change[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const counts = { subscribed: 0, aborted: 0 };
  const source: StreamSource<Change> = {
    async *subscribe(signal) {
      counts.subscribed++;
      signal.addEventListener("abort", () => {
        counts.aborted++;
        wake?.();
      });
      for (;;) {
        while (pending.length > 0) yield pending.shift()!;
        if (signal.aborted || ended) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
    objectKey: (c) => c.id,
    removes: (c) => c.deleted === true,
  };
  return {
    source,
    counts,
    push(...changes: Change[]) {
      pending.push(...changes);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

/** Collects a watch's events in the background. */
function collect(it: AsyncIterable<HubEvent<Change>>) {
  const events: Array<HubEvent<Change>> = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const e of it) events.push(e);
    } catch (err) {
      error = err;
    }
  })();
  return { events, done, error: () => error };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const until = async (what: () => boolean) => {
  for (let i = 0; i < 400 && !what(); i++) await tick();
  expect(what()).toBe(true);
};

describe("WatchHub", () => {
  it("shares one backend subscription between watchers and numbers events in order", async () => {
    const hub = new WatchHub({ startRevision: 100n, lingerMs: 0 });
    const f = feed();
    const a1 = new AbortController();
    const a2 = new AbortController();
    const w1 = collect(hub.watch("links/t", f.source, { signal: a1.signal }));
    const w2 = collect(hub.watch("links/t", f.source, { signal: a2.signal }));
    f.push({ id: "l1", state: "up" }, { id: "l2", state: "up" }, { id: "l1", state: "down" });
    await until(() => w1.events.length === 3 && w2.events.length === 3);
    expect(f.counts.subscribed).toBe(1);
    expect(w1.events.map((e) => [e.revision, e.value.id, e.value.state])).toEqual([
      [101n, "l1", "up"],
      [102n, "l2", "up"],
      [103n, "l1", "down"],
    ]);
    expect(w2.events).toEqual(w1.events);
    expect(hub.current()).toMatchObject({ streams: 1, watchers: 2 });
    a1.abort();
    a2.abort();
    await Promise.all([w1.done, w2.done]);
    // The last watcher gone and no linger: the backend subscription ends too.
    await until(() => f.counts.aborted === 1);
    expect(hub.current()).toMatchObject({ streams: 0, watchers: 0 });
  });

  it("starts a watch from 0 with the current state as snapshots, and resumes after a revision", async () => {
    const hub = new WatchHub({ startRevision: 0n });
    const f = feed();
    const first = new AbortController();
    const w1 = collect(hub.watch("s", f.source, { signal: first.signal }));
    f.push({ id: "a", state: "1" }, { id: "b", state: "1" }, { id: "a", state: "2" }, { id: "c", state: "1" }, { id: "c", state: "x", deleted: true });
    await until(() => w1.events.length === 5);

    const fromZero = new AbortController();
    const w2 = collect(hub.watch("s", f.source, { signal: fromZero.signal }));
    await until(() => w2.events.length === 2);
    // Latest per object, in revision order, without the deleted one.
    expect(w2.events.map((e) => [e.revision, e.value.id, e.value.state, e.snapshot])).toEqual([
      [2n, "b", "1", true],
      [3n, "a", "2", true],
    ]);

    const resumed = new AbortController();
    const w3 = collect(hub.watch("s", f.source, { signal: resumed.signal, afterRevision: 3n }));
    await until(() => w3.events.length === 2);
    // c's first report is a snapshot (it appeared); its deletion is a change.
    expect(w3.events.map((e) => [e.revision, e.value.id, e.snapshot])).toEqual([
      [4n, "c", true],
      [5n, "c", false],
    ]);
    expect(w1.events.map((e) => e.snapshot)).toEqual([true, true, false, true, false]);
    f.push({ id: "b", state: "2" });
    await until(() => w3.events.length === 3 && w2.events.length === 3 && w1.events.length === 6);
    expect(w3.events[2]).toMatchObject({ revision: 6n, snapshot: false });
    for (const a of [first, fromZero, resumed]) a.abort();
    hub.close();
  });

  it("refuses a revision older than the history or newer than the latest with OUT_OF_RANGE", async () => {
    const hub = new WatchHub({ startRevision: 0n, historySize: 3 });
    const f = feed();
    const a = new AbortController();
    const w = collect(hub.watch("s", f.source, { signal: a.signal }));
    f.push(...["1", "2", "3", "4", "5"].map((state) => ({ id: "x", state })));
    await until(() => w.events.length === 5);
    const tooOld = collect(hub.watch("s", f.source, { signal: a.signal, afterRevision: 1n }));
    await tooOld.done;
    expect(tooOld.error()).toBeInstanceOf(ConnectError);
    expect((tooOld.error() as ConnectError).code).toBe(Code.OutOfRange);
    expect((tooOld.error() as ConnectError).rawMessage).toMatch(/after_revision 1 is older than this watch's history \(it starts after revision 2\).*watch again from 0/);
    const ok = collect(hub.watch("s", f.source, { signal: a.signal, afterRevision: 2n }));
    await until(() => ok.events.length === 3);
    expect(ok.events.map((e) => e.revision)).toEqual([3n, 4n, 5n]);
    const ahead = collect(hub.watch("s", f.source, { signal: a.signal, afterRevision: 99n }));
    await ahead.done;
    expect((ahead.error() as ConnectError).code).toBe(Code.OutOfRange);
    expect((ahead.error() as ConnectError).rawMessage).toMatch(/ahead of this manager's latest revision 5/);
    a.abort();
    hub.close();
  });

  it("never lets a slow watcher hold up the others: its queue is merged, then it is ended with the revision to resume after", async () => {
    const hub = new WatchHub({ startRevision: 0n, queueSize: 4 });
    const f = feed();
    const a = new AbortController();
    const fast = collect(hub.watch("s", f.source, { signal: a.signal }));
    // The slow watcher takes one event and then stops reading.
    const slowIt = hub.watch("s", f.source, { signal: a.signal })[Symbol.asyncIterator]();
    const firstSlow = slowIt.next();
    f.push({ id: "a", state: "0" });
    expect((await firstSlow).value).toMatchObject({ revision: 1n });

    // Many changes of two objects: the slow watcher's queue merges to the latest of each.
    for (let i = 1; i <= 50; i++) f.push({ id: i % 2 === 0 ? "a" : "b", state: String(i) });
    await until(() => fast.events.length === 51);
    const merged: Array<HubEvent<Change>> = [];
    // A next() still waiting when the queue ran dry is kept: it gets the following event.
    let pending = slowIt.next();
    for (;;) {
      const next = await Promise.race([pending, tick().then(() => undefined)]);
      if (!next || next.done) break;
      merged.push(next.value);
      pending = slowIt.next();
    }
    expect(merged.length).toBeLessThanOrEqual(4);
    expect(merged.at(-1)!.revision).toBe(51n);
    expect(Object.fromEntries(merged.map((e) => [e.value.id, e.value.state]))).toEqual({ a: "50", b: "49" });
    expect(merged.some((e) => e.snapshot)).toBe(true);
    expect(hub.current().coalesced).toBeGreaterThan(0);

    // Now more distinct objects than its queue holds: it is ended; the fast one goes on.
    for (let i = 0; i < 10; i++) f.push({ id: `n${i}`, state: "1" });
    await until(() => fast.events.length === 61);
    const drained: Array<HubEvent<Change>> = [];
    let error: unknown;
    try {
      for (;;) {
        const next = await pending;
        pending = slowIt.next();
        if (next.done) break;
        drained.push(next.value);
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    const resumeAfter = drained.at(-1)?.revision ?? 51n;
    expect((error as ConnectError).rawMessage).toContain(`Resume with after_revision=${resumeAfter}`);
    // Resuming where it said loses nothing.
    const resumed = collect(hub.watch("s", f.source, { signal: a.signal, afterRevision: resumeAfter }));
    await until(() => resumed.events.at(-1)?.revision === 61n);
    expect(hub.current().overflowed).toBe(1);
    a.abort();
    hub.close();
  });

  it("publishes a change its maker already knows at once, and drops the backend's later report of the same state", async () => {
    const hub = new WatchHub({ startRevision: 0n });
    const f = feed();
    const source: StreamSource<Change> = { ...f.source, sameState: (a, b) => a.state === b.state };
    const a = new AbortController();
    const w = collect(hub.watch("s", source, { signal: a.signal }));
    f.push({ id: "l1", state: "up" });
    await until(() => w.events.length === 1);
    hub.publish("s", { id: "l1", state: "down" });
    hub.publish("nobody-watches", { id: "l1", state: "down" });
    expect(w.events.map((e) => e.value.state)).toEqual(["up"]);
    await until(() => w.events.length === 2);
    f.push({ id: "l1", state: "down" }, { id: "l1", state: "up" });
    await until(() => w.events.length === 3);
    expect(w.events.map((e) => [e.revision, e.value.state])).toEqual([
      [1n, "up"],
      [2n, "down"],
      [3n, "up"],
    ]);
    expect(hub.current().streams).toBe(1);
    a.abort();
    hub.close();
  });

  it("ends every watcher when the backend subscription ends, and passes its error on", async () => {
    const hub = new WatchHub({ startRevision: 0n });
    const f = feed();
    const a = new AbortController();
    const w = collect(hub.watch("s", f.source, { signal: a.signal }));
    f.push({ id: "a", state: "1" });
    f.end();
    await w.done;
    expect(w.events).toHaveLength(1);
    expect(w.error()).toBeUndefined();
    const failing: StreamSource<Change> = {
      // eslint-disable-next-line require-yield
      async *subscribe() {
        throw new ConnectError("topology t1 does not exist", Code.NotFound);
      },
      objectKey: (c) => c.id,
    };
    const w2 = collect(hub.watch("f", failing, { signal: a.signal }));
    await w2.done;
    expect((w2.error() as ConnectError).code).toBe(Code.NotFound);
  });
});
